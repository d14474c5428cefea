// The WebAssembly JS API subset the core loader and tests use. TypeScript ships these only in
// lib.dom, which core-wasm/ and devices/ deliberately do not see (docs/ARCHITECTURE.md "The layers").
declare namespace WebAssembly {
  interface MemoryDescriptor { initial: number; maximum?: number; shared?: boolean }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    grow(delta: number): number;
  }
  interface TableDescriptor { element: "anyfunc"; initial: number; maximum?: number }
  /** A function table: the JIT (core-wasm/jit/) adds translated blocks to the core's. */
  class Table {
    constructor(descriptor: TableDescriptor);
    readonly length: number;
    grow(delta: number): number;
    get(index: number): Function | null;
    set(index: number, value: Function | null): void;
  }
  type ImportValue = Function | Global | Memory | Table | number;
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
  function instantiate(module: Module, imports?: Imports): Promise<Instance>;
}
