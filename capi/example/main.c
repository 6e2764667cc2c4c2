/* The C example in QEMU: the README's classify.c on every golden vector of the student, each
 * compared bit for bit with the logits the host computed, timed with SysTick. Prints
 *   result vectors=N mismatches=M ticks=T decode_ticks=D stack=S
 * (T: SysTick ticks over all inferences; the board's instructions per tick turn them into
 * instructions under QEMU -icount shift=0; S: stack bytes used at most) and exits with success
 * only if every vector matched. capi/example/run.sh builds and runs it. */
#include <stdint.h>

#include "golden.h"
#include "minnow.h"
#include "semihosting.h"
#include "student.h"

int32_t classifier_init(void);
int32_t classify(const int8_t input[MINNOW_STUDENT_INPUT_LEN], int8_t logits[MINNOW_STUDENT_CLASSES]);

#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)
#define SYST_MAX 0x00FFFFFFu

extern uint32_t _ebss, _estack;
#define STACK_PAINT 0x5AA5F00Du
/* Paint at most this much below the stack pointer (the AN386 has 4 MiB of RAM). */
#define STACK_WINDOW (32u * 1024u)

static void put(const char *s) { sh_write(s); }

static void put_num(const char *key, int32_t v) {
    char buf[16], *p = buf + sizeof buf;
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    *--p = 0;
    do { *--p = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) *--p = '-';
    put(key);
    put(p);
}

static uint32_t *stack_floor(void) {
    uint32_t *lo = &_ebss;
    uint32_t *top = &_estack;
    if ((uint32_t)(top - lo) > STACK_WINDOW / 4) lo = top - STACK_WINDOW / 4;
    return lo;
}

static void paint_stack(void) {
    uint32_t sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    /* up to 64 bytes below the stack pointer: this frame is still in use */
    for (uint32_t *p = stack_floor(); (uint32_t)p < sp - 64; p++) *p = STACK_PAINT;
}

static uint32_t stack_used(void) {
    uint32_t *p = stack_floor();
    while (p < &_estack && *p == STACK_PAINT) p++;
    return (uint32_t)((uint8_t *)&_estack - (uint8_t *)p);
}

static uint32_t now(void) { return SYST_CVR; }
static uint32_t elapsed(uint32_t start, uint32_t end) { return (start - end) & SYST_MAX; }

int main(void) {
    paint_stack();
    SYST_CSR = 0;
    SYST_RVR = SYST_MAX;
    SYST_CVR = 0;
    SYST_CSR = 5; /* enable, core clock, no interrupt */

    uint32_t t0 = now();
    int32_t rc = classifier_init();
    uint32_t decode_ticks = elapsed(t0, now());
    if (rc != MINNOW_OK) {
        put("error stage=student msg=");
        put(minnow_status_name(rc));
        put("\n");
        return 1;
    }
    minnow_golden golden;
    rc = minnow_golden_decode(minnow_golden_blob, MINNOW_GOLDEN_BLOB_LEN, &golden);
    if (rc != MINNOW_OK) {
        put("error stage=golden msg=");
        put(minnow_status_name(rc));
        put("\n");
        return 1;
    }
    size_t count = minnow_golden_count(&golden);
    uint32_t ticks = 0, mismatches = 0;
    for (size_t i = 0; i < count; i++) {
        const int8_t *input, *expected;
        size_t input_len, classes;
        rc = minnow_golden_vector(&golden, i, &input, &input_len, &expected, &classes);
        if (rc != MINNOW_OK || input_len != MINNOW_STUDENT_INPUT_LEN ||
            classes != MINNOW_STUDENT_CLASSES) {
            put("error stage=golden msg=");
            put(minnow_status_name(rc != MINNOW_OK ? rc : MINNOW_ERR_LENGTHS_DIFFER));
            put("\n");
            return 1;
        }
        int8_t logits[MINNOW_STUDENT_CLASSES];
        uint32_t start = now();
        int32_t cls = classify(input, logits);
        ticks += elapsed(start, now());
        int same = cls >= 0;
        for (size_t c = 0; same && c < MINNOW_STUDENT_CLASSES; c++) same = logits[c] == expected[c];
        if (!same) {
            mismatches++;
            put_num("mismatch index=", (int32_t)i);
            put_num(" class=", cls);
            put("\n");
        }
    }
    put_num("result vectors=", (int32_t)count);
    put_num(" mismatches=", (int32_t)mismatches);
    put_num(" ticks=", (int32_t)ticks);
    put_num(" decode_ticks=", (int32_t)decode_ticks);
    put_num(" stack=", (int32_t)stack_used());
    put("\n");
    return mismatches == 0 && count > 0 ? 0 : 1;
}
