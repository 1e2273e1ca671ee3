// One rebuilt stripe, as the rebuild hands it to a target archive.
import type { DosTime } from '../zip-layout.js';

export interface RebuiltEntry {
  readonly name: string;
  readonly block: number;
  readonly stripe: number;
  readonly data: Buffer;
  readonly crc: number;
  /** The entry's DOS time when the archive keeps a known directory. */
  readonly time?: DosTime;
}
