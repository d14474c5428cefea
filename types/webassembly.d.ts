// The WebAssembly JS API subset the core loader and tests use. TypeScript ships these only in
// lib.dom, which core-wasm/ and devices/ deliberately do not see (STYLE.md #13).
declare namespace WebAssembly {
  interface MemoryDescriptor { initial: number; maximum?: number; shared?: boolean }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    grow(delta: number): number;
  }
  type ImportValue = Function | Global | Memory | number;
  type Imports = Record<string, Record<string, ImportValue>>;
  interface ModuleImportDescriptor { module: string; name: string; kind: "function" | "table" | "memory" | "global" }
  interface ModuleExportDescriptor { name: string; kind: "function" | "table" | "memory" | "global" }
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
    static imports(module: Module): ModuleImportDescriptor[];
    static exports(module: Module): ModuleExportDescriptor[];
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }
  class Global {
    value: any;
  }
  function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
}
