// Preloaded (node --import) into a padlock started from dist/src/cli/main.js: the process kills
// itself with SIGKILL the moment it is about to move a stored file into place under a name
// ending in PADLOCK_CRASH_BEFORE_MOVE_TO, i.e. at one exact step of storing a new certificate.
// Only the crash is injected; padlock's own code runs unchanged.
import { FsStorage } from "../../src/storage/fs-storage.js";

const target = process.env.PADLOCK_CRASH_BEFORE_MOVE_TO;
if (target) {
  const move = FsStorage.prototype.move;
  FsStorage.prototype.move = function (this: FsStorage, from: string, to: string) {
    if (to.endsWith(target)) process.kill(process.pid, "SIGKILL");
    return move.call(this, from, to);
  };
}
