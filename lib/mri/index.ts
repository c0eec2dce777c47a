/**
 * MRI on the NUFFT: the multi-coil encoding operator (forward, adjoint, normal — optionally by
 * the Toeplitz embedding), Pipe–Menon density compensation, CG reconstruction and trajectory
 * helpers. Trajectories are in radians per axis (k-space edge at ±π), rows paired with the
 * image axes in row-major order; batched (dynamic) trajectories are [P, d, M] and run as one
 * batched NUFFT plan. Operators and CG run where the trajectory lives (a CUDA device, or the
 * native / js host backend), in its precision (float32 → complex64), and keep their data there.
 *
 * @example
 *   const traj = mri.radial({ spokes: 256, samples: 512 });            // float32 [2, M]
 *   const dcf = mri.densityCompensation(traj, { imageShape: [256, 256] });
 *   const E = mri.encoding({ imageShape: [256, 256], trajectory: traj, dcf, toeplitz: true });
 *   const y = await E.forward(image);                                    // complex64 [M]
 *   const x = await mri.cg(E, y, { iterations: 10 });
 */
export { Encoding, encoding, type EncodingOptions } from './encoding';
export { densityCompensation, type DcfOptions } from './dcf';
export { cg, cgSync, type CgOptions } from './cg';
export { GOLDEN_ANGLE, kooshball, radial, spiral, stackOfStars, type TrajectoryOptions } from './trajectories';
export { ToeplitzKernel, toeplitzKernel, type ToeplitzKernelOptions } from './toeplitz';
