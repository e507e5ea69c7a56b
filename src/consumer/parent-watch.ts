/**
 * A worker's tie to its supervisor. A worker must never outlive the `serve` that forked it (an orphan keeps
 * consuming under a name the next supervisor also uses, and on a GPU keeps a model's memory). Two signs that the
 * supervisor is gone: the IPC channel closes ('disconnect', immediate when the parent dies, even by SIGKILL), and,
 * as a backstop, the parent pid changes (the orphan was re-parented). Either calls `onGone` once.
 * It also heartbeats the supervisor over IPC, so a worker whose event loop is frozen is seen as silent.
 */
import type { FromWorker } from "../ipc/messages.ts";

const PARENT_POLL_MS = 1_000;

/**
 * Sends to the supervisor if the channel is still open. A send can still race the channel closing (the supervisor
 * killed mid-send: EPIPE); without a callback Node reports that as an 'error' event on `process`, which crashed the
 * worker before it could drain (seen in test/fault/orphans.test.ts once workers reported their held requests on
 * every change). The disconnect that follows is what tells the worker its supervisor is gone.
 */
export function sendToSupervisor(message: FromWorker): void {
  if (process.connected) process.send?.(message, undefined, undefined, ignoreSendError);
}

function ignoreSendError(): void {
  // the channel closed under the send: the 'disconnect' handler (watchParent) takes it from here
}

/** Watches for the supervisor going away; returns a function that stops watching. */
export function watchParent(onGone: (reason: string) => void): () => void {
  const parentPid = process.ppid;
  let gone = false;
  const fire = (reason: string) => {
    if (gone) return;
    gone = true;
    onGone(reason);
  };
  const onDisconnect = () => fire("IPC channel to the supervisor closed");
  process.once("disconnect", onDisconnect);
  const poll = setInterval(() => process.ppid !== parentPid && fire(`parent pid changed from ${parentPid} to ${process.ppid}`), PARENT_POLL_MS);
  poll.unref();
  return () => (clearInterval(poll), process.off("disconnect", onDisconnect));
}

/** Heartbeats the supervisor every `everyMs` from the event loop, so only a live loop heartbeats. */
export function startHeartbeats(everyMs: number): () => void {
  const beat = () => sendToSupervisor({ kind: "heartbeat" });
  beat();
  const timer = setInterval(beat, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
