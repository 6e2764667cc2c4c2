#ifndef EXAMPLE_SEMIHOSTING_H
#define EXAMPLE_SEMIHOSTING_H
/* Text and the exit status over ARM semihosting (QEMU -semihosting-config enable=on). */
void sh_write(const char *s);
void sh_exit(int success) __attribute__((noreturn));
#endif
