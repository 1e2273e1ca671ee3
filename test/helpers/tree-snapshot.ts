// A fingerprint of a directory tree — every path, type, mode, size, mtime, content hash, xattr
// and link target — to prove a scan or check changed nothing.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { getAttributeSync, listAttributesSync } from 'fs-xattr';

export function treeSnapshot(root: string): string {
  const h = createHash('sha256');
  const walk = (p: string): void => {
    const st = lstatSync(p);
    h.update(`${p}\0${st.mode}\0${st.mtimeMs}\0`);
    if (st.isSymbolicLink()) {
      h.update(`L${readlinkSync(p)}\0`);
      return;
    }
    if (st.isFile()) {
      h.update(`${st.size}\0`).update(readFileSync(p));
    }
    if (st.isFile() || st.isDirectory()) {
      try {
        for (const a of listAttributesSync(p).sort()) h.update(`x${a}=`).update(getAttributeSync(p, a));
      } catch {
        /* unreadable dir (chmod 000): its mode is in the hash */
      }
    }
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = readdirSync(p).sort();
      } catch {
        return;
      }
      for (const n of names) walk(`${p}/${n}`);
    }
  };
  walk(root);
  return h.digest('hex');
}
