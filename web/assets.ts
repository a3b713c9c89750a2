// The dashboard's three files as strings, produced by the bundleDashboard macro when this module
// is transpiled (see bundle.ts). Imported lazily by api/routes/dashboard.ts so a server start
// does not pay for the bundle until someone opens the page.
import { bundleDashboard } from "./bundle.ts" with { type: "macro" };

export const DASHBOARD = bundleDashboard();
