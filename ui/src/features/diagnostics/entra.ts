// How the Diagnostics dialog words a Microsoft Entra ID sign-in. Pure, so it is tested without a DOM.
import type { SignInOutcome } from "../../ipc/generated/SignInOutcome";

/** `2026-12-01 22:40 UTC (in 58 min)`: when the token expires, absolute and from now. */
export function expiryText(expiresAt: string, nowMs: number): string {
  const at = new Date(expiresAt);
  if (Number.isNaN(at.getTime())) return expiresAt;
  const absolute = `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  const minutes = Math.round((at.getTime() - nowMs) / 60_000);
  const relative =
    minutes < 0
      ? `expired ${-minutes} min ago`
      : minutes < 120
        ? `in ${minutes} min`
        : `in ${Math.round(minutes / 60)} h`;
  return `${absolute} (${relative})`;
}

/** The sign-in line, which starts with "ok" or "failed" like the keychain's. */
export function signInLine(outcome: SignInOutcome): { text: string; ok: boolean } {
  return outcome.status === "ok"
    ? { text: `ok — ${outcome.credential}`, ok: true }
    : { text: `failed — ${outcome.message}`, ok: false };
}
