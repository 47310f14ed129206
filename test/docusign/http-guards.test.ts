import { describe, expect, it } from "vitest";
import {
  hasCredentials,
  isBearerToken,
  redactCredentials,
  refuseRedirect,
} from "../../lambda/docusign/http-guards";
import { DocuSignError } from "../../lambda/errors";

describe("http guards", () => {
  it("accepts RFC 6750 tokens only", () => {
    expect(isBearerToken("eyJ0eXAi.eyJzdWIi.c2ln-_~+/==")).toBe(true);
    for (const bad of ["a\r\nb", "a b", 'a"b', "", "a=b"]) expect(isBearerToken(bad), bad).toBe(false);
  });

  it("finds credentials in URLs", () => {
    expect(hasCredentials("https://u:p@h")).toBe(true);
    expect(hasCredentials("https://u@h")).toBe(true);
    expect(hasCredentials("https://h/p@x")).toBe(false);
  });

  it("redacts Bearer values, JWT-shaped text and the current token", () => {
    expect(
      redactCredentials("got Authorization: Bearer abc.def and eyJhbGci.eyJzdWIi.sig", "opaque123"),
    ).toBe("got Authorization: [redacted credential] and [redacted credential]");
    expect(redactCredentials("token=opaque123;", "opaque123")).toBe("token=[redacted credential];");
  });

  it("refuses any 3xx and any response a custom fetch reached by following one", () => {
    const redirect = new Response(null, {
      status: 308,
      headers: { Location: "https://evil.example:8443/x" },
    });
    expect(() => refuseRedirect("GET x", redirect)).toThrow(
      /HTTP 308 redirect \(Location host evil\.example:8443\)/,
    );
    const followed = new Response("{}", { status: 200 });
    Object.defineProperty(followed, "redirected", { value: true });
    expect(() => refuseRedirect("GET x", followed)).toThrow(DocuSignError);
    expect(() => refuseRedirect("GET x", new Response("{}", { status: 200 }))).not.toThrow();
  });
});
