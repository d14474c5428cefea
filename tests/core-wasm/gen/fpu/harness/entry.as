// FPU test harness entry: the real fpu/ sources plus the stand-in cpu/access.ts.
export { fpuExecute, fpuWait, fpuReset } from "./fpu/index";
export { hMemBase, hSetFault, hBegin, hException, hEflags, hSetEflags, hAX, hSetAX } from "./cpu/access";
