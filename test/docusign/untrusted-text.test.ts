import { describe, expect, it } from "vitest";
import { quoteUntrusted, sanitizeUntrusted } from "../../lambda/docusign/untrusted-text";

describe("untrusted text", () => {
  it("drops CSI, OSC (BEL or ST terminated) and 8-bit C1 sequences whole", () => {
    expect(sanitizeUntrusted("a\u001b[1;31mred\u001b[0m b")).toBe("ared b");
    expect(sanitizeUntrusted("x\u001b]8;;http://evil\u001b\\link\u001b]8;;\u0007y")).toBe("xlinky");
    expect(sanitizeUntrusted("p\u009b2Jq\u009d0;title\u009cr")).toBe("pqr");
  });

  it("turns other controls and bidirectional overrides into spaces", () => {
    expect(sanitizeUntrusted("a\r\nb\tc\u0000d\u007fe\u0085f")).toBe("a  b c d e f");
    expect(sanitizeUntrusted("user\u202egnp.exe\u2066x\u2069")).toBe("user gnp.exe x ");
  });

  it("quotes on one line, collapsed and shortened", () => {
    expect(quoteUntrusted("  two\n\n lines  ")).toBe("two lines");
    expect(quoteUntrusted("x".repeat(300), 10)).toBe(`${"x".repeat(10)}…`);
  });
});
