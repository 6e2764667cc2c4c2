//! Times one training step's convolution work (forward + backward) with burn's `conv2d` and
//! with minnow's im2col convolution, on the layer shapes of an MNIST CNN, and prints the
//! ratio. Run by `bench/conv_im2col.sh` (release build); both paths run in the same process,
//! alternating, so a busy machine slows both alike.
use std::time::Instant;

use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Tensor, TensorData};
use minnow::net::im2col::conv2d_im2col;
use minnow::rng::Rng;

fn main() {
    let dev = minnow::net::backend::device(Default::default())
        .expect("cpu device")
        .autodiff();
    let mut rng = Rng::new(1);
    let mut random = |shape: [usize; 4]| {
        let n = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| rng.uniform() - 0.5).collect();
        Tensor::<4>::from_data(TensorData::new(v, shape), &dev).require_grad()
    };
    let reps = 5;
    println!("layer (batch 128)                    burn conv2d ms   im2col ms   ratio");
    for (name, c, o, hw, k) in [
        ("conv 1->16 3x3 on 28x28", 1, 16, 28, 3),
        ("conv 16->32 3x3 on 14x14", 16, 32, 14, 3),
        ("conv 32->64 3x3 on 7x7", 32, 64, 7, 3),
        ("conv 32->64 3x3 on 14x14", 32, 64, 14, 3),
    ] {
        let x = random([128, c, hw, hw]);
        let w = random([o, c, k, k]);
        let (mut burn_ms, mut ours_ms) = (f64::MAX, f64::MAX);
        for _ in 0..reps {
            let t = Instant::now();
            let y = conv2d(
                x.clone(),
                w.clone(),
                None,
                ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
            );
            let g = y.sum().backward();
            let _ = (x.grad(&g), w.grad(&g));
            burn_ms = burn_ms.min(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            let y = conv2d_im2col(x.clone(), w.clone(), None, 1, 1);
            let g = y.sum().backward();
            let _ = (x.grad(&g), w.grad(&g));
            ours_ms = ours_ms.min(t.elapsed().as_secs_f64() * 1e3);
        }
        println!(
            "{name:<36} {burn_ms:>14.1} {ours_ms:>11.1} {:>7.2}",
            burn_ms / ours_ms
        );
    }
}
