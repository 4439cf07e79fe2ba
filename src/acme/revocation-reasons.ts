// RFC 5280 §5.3.1 CRLReason codes, by the names the RFC gives them (7 is unused).
export const REVOCATION_REASONS: Record<string, number> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

/** The reason's code, or a message saying which names exist. */
export function revocationReason(name: string): { code: number; name: string } | string {
  const found = Object.keys(REVOCATION_REASONS).find((r) => r.toLowerCase() === name.toLowerCase());
  if (found) return { code: REVOCATION_REASONS[found]!, name: found };
  return `unknown revocation reason "${name}"; use one of ${Object.keys(REVOCATION_REASONS).join(", ")} (Let's Encrypt accepts unspecified, keyCompromise, superseded, cessationOfOperation)`;
}
