/* sftp.c - placeholder until written. */
typedef int sq_placeholder_sftp;
