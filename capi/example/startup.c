/* The least bare-metal start-up for the C example (QEMU boards): vector table, .data/.bss
 * initialisation, the FPU on cores that have one, semihosting for output and the exit status.
 * A product's start-up comes from its vendor SDK instead. */
#include <stdint.h>

#include "semihosting.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

void Reset_Handler(void) {
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0;
#if defined(__ARM_FP)
    /* CP10/CP11 full access: the hard-float library (thumbv7em-none-eabihf) uses the FPU. */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm volatile("dsb\n isb");
#endif
    sh_exit(main() == 0);
}

static void Fault_Handler(void) {
    sh_write("HARDFAULT\n");
    sh_exit(0);
}

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &_estack, (const void *)Reset_Handler, (const void *)Fault_Handler,
    (const void *)Fault_Handler, (const void *)Fault_Handler, (const void *)Fault_Handler,
    (const void *)Fault_Handler,
};

void sh_write(const char *s) {
    register uint32_t r0 __asm("r0") = 0x04; /* SYS_WRITE0 */
    register const char *r1 __asm("r1") = s;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

void sh_exit(int success) {
    for (;;) {
        register uint32_t r0 __asm("r0") = 0x18; /* SYS_EXIT */
        /* ADP_Stopped_ApplicationExit, or ADP_Stopped_RunTimeErrorUnknown (QEMU exits with 1) */
        register uint32_t r1 __asm("r1") = success ? 0x20026 : 0x20023;
        __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    }
}
