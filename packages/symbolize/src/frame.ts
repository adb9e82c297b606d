/**
 * The frame type is the profile model's: re-exported so this package's files import it from one
 * place. Kernel and JIT module names match the model's KERNEL_MODULE and JIT_MODULE.
 */
export type { Frame, FrameKind } from '@firesight/profile';
