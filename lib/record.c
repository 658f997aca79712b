/* record.c - placeholder until the module lands. */
#include "err.h"
