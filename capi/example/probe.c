/* The least C application that uses a student: classify.c's decode and one inference on an
   all-zero input, no output. The flash it takes from libminnow_c.a is the runtime a C firmware
   pays for minnow (run.sh: runtime_flash), comparable with the Rust firmware's size probe. */
#include <stdint.h>

#include "student.h"

int32_t classifier_init(void);
int32_t classify(const int8_t input[MINNOW_STUDENT_INPUT_LEN], int8_t logits[MINNOW_STUDENT_CLASSES]);

static int8_t input[MINNOW_STUDENT_INPUT_LEN];

int main(void) {
    int8_t logits[MINNOW_STUDENT_CLASSES];
    return classifier_init() == 0 && classify(input, logits) >= 0 ? 0 : 1;
}
