/*
 * CMSIS-NN's int8 kernels called in minnow's terms, for the kernel benchmark
 * (firmware/src/bin/minnow-kernel-bench.rs, feature `cmsis-nn`; scripts/kernel-bench.sh builds
 * this file and the vendored CMSIS-NN sources beside it with arm-none-eabi-gcc -O3).
 *
 * Each call is the one a TensorFlow Lite Micro kernel makes for the layer (the wrappers that
 * pick CMSIS-NN's fastest path for the shape), with what TFLM works out once per model done in
 * minnow_cmsis_prepare, outside the timing: the buffer, and for fully connected layers the
 * kernel sums.
 */
#include "arm_nnfunctions.h"

/* minnow's layer kinds, as the benchmark numbers them. */
enum { MINNOW_DENSE = 0, MINNOW_CONV = 1, MINNOW_DEPTHWISE = 2, MINNOW_MAX_POOL = 3, MINNOW_AVG_POOL = 4 };

/* One layer, in the order of the Rust struct `CmsisLayer` (repr(C)). */
typedef struct
{
    int32_t kind;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t kernel_h, kernel_w, stride, padding;
    int32_t input_offset;  /* minus the input zero point */
    int32_t output_offset; /* the output zero point */
    int32_t act_min, act_max;
    const int8_t *weights; /* minnow's layouts are CMSIS-NN's: OHWI, [kh][kw][c], [out][in] */
    const int32_t *bias;   /* CMSIS-NN's: minnow's with the input zero point's term taken out */
    const int32_t *multiplier;
    const int32_t *shift;
    void *buffer;
    int32_t buffer_len;
} minnow_cmsis_layer;

static cmsis_nn_dims dims(int32_t n, int32_t h, int32_t w, int32_t c)
{
    cmsis_nn_dims d = {n, h, w, c};
    return d;
}

static cmsis_nn_conv_params conv_params(const minnow_cmsis_layer *l)
{
    cmsis_nn_conv_params p = {l->input_offset,
                              l->output_offset,
                              {l->stride, l->stride},
                              {l->padding, l->padding},
                              {1, 1},
                              {l->act_min, l->act_max}};
    return p;
}

static cmsis_nn_dw_conv_params dw_params(const minnow_cmsis_layer *l)
{
    cmsis_nn_dw_conv_params p = {l->input_offset,
                                 l->output_offset,
                                 1,
                                 {l->stride, l->stride},
                                 {l->padding, l->padding},
                                 {1, 1},
                                 {l->act_min, l->act_max}};
    return p;
}

/* Bytes of scratch buffer the layer's CMSIS-NN call needs. */
int32_t minnow_cmsis_buffer_len(const minnow_cmsis_layer *l)
{
    const cmsis_nn_dims in = dims(1, l->in_h, l->in_w, l->in_c);
    const cmsis_nn_dims out = dims(1, l->out_h, l->out_w, l->out_c);
    switch (l->kind)
    {
    case MINNOW_DENSE: {
        const cmsis_nn_dims filter = dims(l->in_h * l->in_w * l->in_c, 1, 1, l->out_c);
        return arm_fully_connected_s8_get_buffer_size(&filter);
    }
    case MINNOW_CONV: {
        const cmsis_nn_conv_params p = conv_params(l);
        const cmsis_nn_dims filter = dims(l->out_c, l->kernel_h, l->kernel_w, l->in_c);
        return arm_convolve_wrapper_s8_get_buffer_size(&p, &in, &filter, &out);
    }
    case MINNOW_DEPTHWISE: {
        const cmsis_nn_dw_conv_params p = dw_params(l);
        const cmsis_nn_dims filter = dims(1, l->kernel_h, l->kernel_w, l->out_c);
        return arm_depthwise_conv_wrapper_s8_get_buffer_size(&p, &in, &filter, &out);
    }
    case MINNOW_AVG_POOL:
        return arm_avgpool_s8_get_buffer_size(l->out_w, l->in_c);
    default:
        return 0;
    }
}

/* What TFLM computes once per model: the fully connected layer's kernel sums (bias included). */
int32_t minnow_cmsis_prepare(const minnow_cmsis_layer *l)
{
    if (l->kind == MINNOW_DENSE && l->buffer_len > 0)
    {
        return arm_vector_sum_s8(
            (int32_t *)l->buffer, l->in_h * l->in_w * l->in_c, l->out_c, l->weights, l->input_offset, 0, l->bias);
    }
    return ARM_CMSIS_NN_SUCCESS;
}

/* Runs the layer on `input` into `output`; ARM_CMSIS_NN_SUCCESS (0) or CMSIS-NN's error. */
int32_t minnow_cmsis_run(const minnow_cmsis_layer *l, const int8_t *input, int8_t *output)
{
    const cmsis_nn_context ctx = {l->buffer, l->buffer_len};
    const cmsis_nn_dims in = dims(1, l->in_h, l->in_w, l->in_c);
    const cmsis_nn_dims out = dims(1, l->out_h, l->out_w, l->out_c);
    const cmsis_nn_dims bias = dims(1, 1, 1, l->out_c);
    const cmsis_nn_per_channel_quant_params quant = {(int32_t *)l->multiplier, (int32_t *)l->shift};
    switch (l->kind)
    {
    case MINNOW_DENSE: {
        const cmsis_nn_fc_params p = {l->input_offset, 0, l->output_offset, {l->act_min, l->act_max}};
        const cmsis_nn_dims filter = dims(l->in_h * l->in_w * l->in_c, 1, 1, l->out_c);
        const cmsis_nn_dims flat_in = dims(1, 1, 1, l->in_h * l->in_w * l->in_c);
        const cmsis_nn_dims flat_out = dims(1, 1, 1, l->out_c);
        return arm_fully_connected_per_channel_s8(
            &ctx, &p, &quant, &flat_in, input, &filter, l->weights, &bias, l->bias, &flat_out, output);
    }
    case MINNOW_CONV: {
        const cmsis_nn_conv_params p = conv_params(l);
        const cmsis_nn_dims filter = dims(l->out_c, l->kernel_h, l->kernel_w, l->in_c);
        return arm_convolve_wrapper_s8(
            &ctx, &p, &quant, &in, input, &filter, l->weights, &bias, l->bias, &out, output);
    }
    case MINNOW_DEPTHWISE: {
        const cmsis_nn_dw_conv_params p = dw_params(l);
        const cmsis_nn_dims filter = dims(1, l->kernel_h, l->kernel_w, l->out_c);
        return arm_depthwise_conv_wrapper_s8(
            &ctx, &p, &quant, &in, input, &filter, l->weights, &bias, l->bias, &out, output);
    }
    case MINNOW_MAX_POOL:
    case MINNOW_AVG_POOL: {
        const cmsis_nn_pool_params p = {{l->stride, l->stride}, {0, 0}, {l->act_min, l->act_max}};
        const cmsis_nn_dims filter = dims(1, l->kernel_h, l->kernel_w, 1);
        if (l->kind == MINNOW_MAX_POOL)
        {
            return arm_max_pool_s8(&ctx, &p, &in, input, &filter, &out, output);
        }
        return arm_avgpool_s8(&ctx, &p, &in, input, &filter, &out, output);
    }
    default:
        return ARM_CMSIS_NN_ARG_ERROR;
    }
}
