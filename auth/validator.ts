// Token validation, first match wins (ocpp.md §2.1). With OCPP: the local list (if enabled, and
// LocalPreAuthorize online / LocalAuthorizeOffline offline) honouring status and expiry [D-O 1];
// then the cache under the same rule if AuthorizationCacheEnabled [D-O 2]; then Authorize.req;
// offline or unanswered → Accepted only with AllowOfflineTxForUnknownId. Without OCPP the
// configured `auth.tokens` list decides, unknown tokens are Invalid.
import type { AuthOptions } from "../core/config/index.ts";
import type { AuthCache } from "./auth-cache.ts";
import { effectiveStatus, sameTag, type IdTagInfo } from "./id-tag-info.ts";
import type { LocalList } from "./local-list.ts";

/** What validation needs from the OCPP charge point. */
export interface OcppAuthority {
  online(): boolean;
  bool(key: string): boolean;
  /** Authorize.req; resolves null when offline or when no answer came in time. */
  authorize(idTag: string): Promise<IdTagInfo | null>;
  localList: LocalList;
  cache: AuthCache;
}

export type ValidationSource = "local_list" | "cache" | "csms" | "offline" | "tokens";

export interface Verdict extends IdTagInfo {
  source: ValidationSource;
}

export class TokenValidator {
  constructor(
    private readonly ocpp: OcppAuthority | null,
    private readonly tokens: AuthOptions["tokens"],
    private readonly now: () => number,
  ) {}

  async validate(idTag: string): Promise<Verdict> {
    const now = this.now();
    const ocpp = this.ocpp;
    if (ocpp === null) {
      const entry = this.tokens.find((t) => sameTag(t.id_tag, idTag));
      if (!entry) return { status: "Invalid", source: "tokens" };
      const info: IdTagInfo = { status: entry.status, ...(entry.expiry ? { expiryDate: entry.expiry } : {}), ...(entry.parent_id_tag ? { parentIdTag: entry.parent_id_tag } : {}) };
      return { ...info, status: effectiveStatus(info, now), source: "tokens" };
    }
    const online = ocpp.online();
    const localAllowed = online ? ocpp.bool("LocalPreAuthorize") : ocpp.bool("LocalAuthorizeOffline");
    if (localAllowed && ocpp.bool("LocalAuthListEnabled")) {
      const entry = ocpp.localList.lookup(idTag);
      if (entry) return { ...entry, status: effectiveStatus(entry, now), source: "local_list" };
    }
    if (localAllowed && ocpp.bool("AuthorizationCacheEnabled")) {
      const entry = ocpp.cache.lookup(idTag);
      if (entry) {
        const status = effectiveStatus(entry, now);
        // Online, only a valid Accepted entry saves the round trip; anything else asks the CSMS.
        if (status === "Accepted" || !online) return { ...entry, status, source: "cache" };
      }
    }
    if (online) {
      const info = await ocpp.authorize(idTag);
      if (info) return { ...info, status: effectiveStatus(info, this.now()), source: "csms" };
    }
    return { status: ocpp.bool("AllowOfflineTxForUnknownId") ? "Accepted" : "Invalid", source: "offline" };
  }
}
