// The security models of a 9p export on a host directory (node-fs.ts says what each does): a
// module of its own so that the device type's option table (virtio/p9.ts), which the page
// loads too, can list them without the Node backend.
export const SECURITY_MODELS = ["none", "passthrough"] as const;
export type SecurityModel = (typeof SECURITY_MODELS)[number];
