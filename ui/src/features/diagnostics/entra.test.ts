import { describe, expect, it } from "vitest";

import { expiryText, signInLine } from "./entra";

const NOW = Date.parse("2026-12-01T21:42:00Z");

describe("Entra ID in Diagnostics", () => {
  it("says when the token expires, in UTC and from now", () => {
    expect(expiryText("2026-12-01T22:40:00Z", NOW)).toBe("2026-12-01 22:40 UTC (in 58 min)");
    expect(expiryText("2026-12-02T09:42:00Z", NOW)).toBe("2026-12-02 09:42 UTC (in 12 h)");
    expect(expiryText("2026-12-01T21:30:00Z", NOW)).toBe("2026-12-01 21:30 UTC (expired 12 min ago)");
    // A text Rust did not format as RFC 3339 is shown as it came.
    expect(expiryText("soon", NOW)).toBe("soon");
  });

  it("names the credential that answered, or the sign-in's error with its fix", () => {
    expect(
      signInLine({ status: "ok", credential: "Azure CLI", tenant: null, expiresAt: "2026-12-01T22:40:00Z" }),
    ).toEqual({ text: "ok — Azure CLI", ok: true });
    expect(signInLine({ status: "failed", message: "… run `az login`" })).toEqual({
      text: "failed — … run `az login`",
      ok: false,
    });
  });
});
