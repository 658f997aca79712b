#include "err.h"
int main(void)
{
	return 0;
}
