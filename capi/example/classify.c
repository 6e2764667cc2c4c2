#include "minnow.h"   /* capi/include: the C ABI */
#include "student.h"  /* minnow emit c DIR RUN: the blob and its sizes */

static minnow_student model;  /* the decoded student; it reads its weights from the blob in flash */
static int8_t scratch[MINNOW_STUDENT_SCRATCH_LEN];

/* Once, at start-up: checks the blob's version, CRC and every layer. 0 or a MINNOW_ERR_* code. */
int32_t classifier_init(void) {
    return minnow_student_decode(minnow_student_blob, MINNOW_STUDENT_BLOB_LEN, &model);
}

/* One inference on a quantized input (minnow_student_quantize_input makes one from raw floats):
   the class (>= 0), or a MINNOW_ERR_* code (< 0); the int8 logits land in `logits`. */
int32_t classify(const int8_t input[MINNOW_STUDENT_INPUT_LEN],
                 int8_t logits[MINNOW_STUDENT_CLASSES]) {
    size_t cls = 0;
    int32_t rc = minnow_student_predict(&model, input, MINNOW_STUDENT_INPUT_LEN, scratch,
                                        sizeof scratch, logits, MINNOW_STUDENT_CLASSES, &cls);
    return rc == MINNOW_OK ? (int32_t)cls : rc;
}
