// What a virtio device type declares about itself, once: its name and device id, its options
// (type, default, check), the transports it works on, its feature names and config layout for
// the inspector, how the board builds it, and how the page offers it. The registry
// (devices/registry.ts) lists these; the CLI, the page, the board, the bench and the inspector
// read them, so a new device type is its own file plus one registry line (docs/ARCHITECTURE.md
// "The device registry").
import type { BlockBackend } from "../host/block.ts";
import type { FsBackend } from "../p9/backend.ts";
import type { ConfigField } from "./config-space.ts";
import type { VirtioDevice } from "./device.ts";
import type { GuestMemory } from "./guest-memory.ts";
import type { TransportDef } from "./transports.ts";
import type { VirtioDeviceSpec } from "../vm/config.ts";
import type { SecurityModel } from "../p9/security-model.ts";

/**
 * The spec of a device type with a block backend (`backend: "block"`): the image the host opens.
 * Node: a host path the worker opens — writes go back to the file. Page: `idb:NAME`, a
 * copy-on-write overlay kept in IndexedDB over base bytes the page sends (web/idb-disk.ts).
 */
export interface BlockDeviceSpec extends VirtioDeviceSpec {
  image: string;
  /** Refuse writes (and say so to the driver). */
  readonly?: boolean;
}

/** The spec of a device type with a folder backend (`backend: "fs"`). */
export interface FsDeviceSpec extends VirtioDeviceSpec {
  /** The shared folder. Node: a host directory. Page: `mem:NAME` / `idb:NAME` (web/idb-share.ts). */
  path: string;
  /** Refuse every change (EROFS). */
  readonly?: boolean;
  /** On a host directory: how guest modes and owners reach host files (node-fs.ts SECURITY_MODELS); default "none". */
  securityModel?: SecurityModel;
}

/** An option's value in a spec. */
export type OptionValue = string | number | boolean;

export interface OptionDef {
  /** The CLI's key (`image=FILE`) and, unless `field` says otherwise, the spec's field. */
  readonly key: string;
  /** The VirtioDeviceSpec field it fills, when it differs from the key. */
  readonly field?: string;
  /**
   * flag: present or absent, no value; string / int: `key=value`; file / dir: a host path the
   * CLI checks exists (the page names its own storage); choice: one of `choices`.
   */
  readonly kind: "flag" | "string" | "int" | "file" | "dir" | "choice";
  /** The placeholder in --help (`FILE`, `N`, `NAME`). */
  readonly meta?: string;
  readonly choices?: readonly string[];
  readonly required?: boolean;
  /** The value the device takes when the option is absent (shown in --help). */
  readonly default?: OptionValue;
  /** int: its unit in messages ("MiB"). */
  readonly unit?: string;
  /** Device-specific check of a parsed value: the reason it is wrong, or null. */
  readonly check?: (value: OptionValue, ctx: { memMiB: number }) => string | null;
  /** file: a check of the file's size (a disk image's sector multiple). */
  readonly checkSize?: (size: number) => string | null;
  /** file: an http(s) URL of a disk manifest is taken too (a streamed disk, devices/host/streamed-disk.ts). */
  readonly streams?: boolean;
  /** Several devices of this type must differ in this option (a 9p mount tag). */
  readonly unique?: boolean;
  /** One line for --help. */
  readonly help?: string;
}

/** What the board hands a device type's factory. */
export interface DeviceContext {
  mem: GuestMemory;
  log: (message: string) => void;
  /** The block backend of a spec (Node: a file; page: IndexedDB); absent where the host has none. */
  openBlock?: (spec: BlockDeviceSpec) => BlockBackend;
  /** The folder of a spec (Node: a host directory; page: IndexedDB). */
  openFs?: (spec: FsDeviceSpec) => FsBackend;
  /** Console output (the same stream the UART feeds). */
  onConsole: (byte: number) => void;
}

/** Host-side roles the page and the host arrange for (what a device type needs from them). */
export type DeviceRole =
  | "terminal" // owns the console: input goes to it, the page boots with console=hvc0
  | "disk" // the page's data disk (block backend)
  | "share" // the page's shared folder
  | "keyboard" // receives the page's key presses
  | "memory" // a balloon: the page sets its size live
  | "network"; // the page links it to other tabs or the built-in host

/** How the page offers a device type: one select of transports in the device bar. */
export interface PageControl {
  /** The URL parameter and the select's element id. */
  readonly param: string;
  readonly label: string;
  /** The choice meaning "not plugged" (a console's is the UART). */
  readonly off: string;
  /** How the select shows `off` and a transport. */
  readonly offLabel?: string;
  readonly transportLabel?: (t: string) => string;
  /** The default choice: `off` or a transport name. */
  readonly default: string;
  /** Where among the page's devices it is plugged (virtio0, virtio1, … follow this order). */
  readonly order: number;
  /** Left out of a settings object that does not name it (kept optional in older links). */
  readonly optional?: boolean;
}

/**
 * A device type whose factory takes its own spec type `S`. The registry's parser builds a spec
 * from the type's option table (fields, types, checks), and the board hands it to that type's
 * factory only: the table is what makes a parsed spec an `S`.
 */
export interface DeviceType<S extends VirtioDeviceSpec = VirtioDeviceSpec> {
  /** `--device NAME,…`, the inspector's type, stats keys: "blk", "console". */
  readonly name: string;
  /** Virtio device id (virtio 1.2 §5). */
  readonly deviceId: number;
  /** One line for --help. */
  readonly summary: string;
  readonly options: readonly OptionDef[];
  /** The transports it works on (absent: all), and why when not all. */
  readonly transports?: (t: TransportDef) => boolean;
  readonly transportsWhy?: string;
  /** At most this many per VM (one console owns the console). */
  readonly maxInstances?: number;
  /** Device-specific feature bits by number, named as the Linux uapi headers name them. */
  readonly features: Readonly<Record<number, string>>;
  /** Its configuration space layout, for the inspector (absent: no config space). */
  readonly config?: readonly ConfigField[];
  /** The PCI class code a virtio-pci function reports (informative; Linux matches on ids). */
  readonly pciClass?: number;
  readonly roles?: readonly DeviceRole[];
  /** Backends the host must open before the VM starts. */
  readonly backend?: "block" | "fs";
  readonly page?: PageControl;
  /** Build the device model for `spec` (options already checked). */
  create(spec: S, ctx: DeviceContext): VirtioDevice;
}

/** The field of a spec an option fills. */
export const optionField = (o: OptionDef): string => o.field ?? o.key;
