/**
 * The simulator's `GET /oauth/userinfo` body, shaped as DocuSign's: the user and one account per
 * organization it administers, each naming its `organization.organization_id`.
 */
export function userInfoBody(userId: string, organizations: readonly string[]): Record<string, unknown> {
  const accounts =
    organizations.length === 0
      ? [
          {
            account_id: accountId(0),
            is_default: true,
            account_name: "Simulated account",
            base_uri: "https://demo.docusign.net",
          },
        ]
      : organizations.map((organizationId, i) => ({
          account_id: accountId(i),
          is_default: i === 0,
          account_name: `Simulated account ${i + 1}`,
          base_uri: "https://demo.docusign.net",
          organization: { organization_id: organizationId, links: [] },
        }));
  return { sub: userId, name: "Simulated Admin", email: "admin@example.com", accounts };
}

function accountId(i: number): string {
  return `00000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`;
}
