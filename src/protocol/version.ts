/** The service's version: package.json's, so that there is one place to bump it. */
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
