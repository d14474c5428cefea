// Linux errno values (asm-generic/errno-base.h, errno.h — the same on i386), which 9P2000.L
// carries in Rlerror. A backend throws FsError with one of them; anything else a backend
// throws becomes EIO, so a host failure never reaches the guest as anything but an error.
export const EPERM = 1, ENOENT = 2, EIO = 5, EBADF = 9, EAGAIN = 11, ENOMEM = 12, EACCES = 13,
  EBUSY = 16, EEXIST = 17, EXDEV = 18, ENODEV = 19, ENOTDIR = 20, EISDIR = 21, EINVAL = 22,
  ENFILE = 23, EMFILE = 24, EFBIG = 27, ENOSPC = 28, ESPIPE = 29, EROFS = 30, EMLINK = 31,
  ERANGE = 34, ENAMETOOLONG = 36, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40, ENODATA = 61,
  EPROTO = 71, EOVERFLOW = 75, EOPNOTSUPP = 95, ESTALE = 116, EDQUOT = 122;

/** Node's error codes (and the browser backends' names) → Linux errno. */
const BY_CODE: Record<string, number> = {
  EPERM, ENOENT, EIO, EBADF, EAGAIN, ENOMEM, EACCES, EBUSY, EEXIST, EXDEV, ENODEV, ENOTDIR, EISDIR,
  EINVAL, ENFILE, EMFILE, EFBIG, ENOSPC, ESPIPE, EROFS, EMLINK, ERANGE, ENAMETOOLONG, ENOSYS,
  ENOTEMPTY, ELOOP, ENODATA, EPROTO, EOVERFLOW, EOPNOTSUPP, ENOTSUP: EOPNOTSUPP, ESTALE, EDQUOT,
};

export class FsError extends Error {
  constructor(readonly errno: number, message?: string) {
    super(message ?? `errno ${errno}`);
  }
}

/** The errno for anything a backend threw: FsError's own, a Node error's code, else EIO. */
export function errnoOf(e: unknown): number {
  if (e instanceof FsError) return e.errno;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code in BY_CODE) return BY_CODE[code]!;
  return EIO;
}
