// Zip record signatures and sizes, and the field values XrdEc writes (XRDEC-FORMAT.md §D).

export const SIG_LFH = 0x04034b50;
export const SIG_CDFH = 0x02014b50;
export const SIG_EOCD = 0x06054b50;
export const SIG_ZIP64_EOCD = 0x06064b50;
export const SIG_ZIP64_LOCATOR = 0x07064b50;

export const LFH_SIZE = 30;
export const CDFH_SIZE = 46;
export const EOCD_SIZE = 22;
export const ZIP64_EOCD_SIZE = 56;
export const ZIP64_LOCATOR_SIZE = 20;
export const ZIP64_EXTRA_ID = 0x0001;

export const U16_MAX = 0xffff;
export const U32_MAX = 0xffffffff;
/** Longest possible EOCD comment: bounds the tail we search for the EOCD. */
export const MAX_COMMENT = 0xffff;

/** "Made by" UNIX, zip spec 6.3 — what XrdZip writes in central headers. */
export const MADE_BY = 0x033f;
export const VERSION_NEEDED = 10;
export const VERSION_NEEDED_ZIP64 = 45;
/** External attributes: regular file, mode 0644, in the high 16 bits. */
export const EXTERNAL_ATTRS = 0x01a40000;

/** Encodes a Date as MS-DOS time and date (local time, 2-second resolution). */
export function dosTimestamp(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1);
  const date = ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
  return { time, date };
}
