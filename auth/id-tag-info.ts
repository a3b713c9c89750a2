// OCPP 1.6 IdTagInfo, the verdict on a token wherever it comes from (local list, cache, CSMS,
// `auth.tokens`), and the expiry rule every source shares.
export type IdTagStatus = "Accepted" | "Blocked" | "Expired" | "Invalid" | "ConcurrentTx";

export interface IdTagInfo {
  status: IdTagStatus;
  expiryDate?: string;
  parentIdTag?: string;
}

/** An Accepted verdict whose expiry has passed counts as Expired. */
export function effectiveStatus(info: IdTagInfo, now: number): IdTagStatus {
  if (info.status === "Accepted" && info.expiryDate !== undefined) {
    const t = Date.parse(info.expiryDate);
    if (Number.isFinite(t) && t <= now) return "Expired";
  }
  return info.status;
}

/** OCPP compares id tags case-insensitively. */
export const sameTag = (a: string | null | undefined, b: string | null | undefined): boolean =>
  a != null && b != null && a.toLowerCase() === b.toLowerCase();
