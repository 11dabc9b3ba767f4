// Temporary: moved to @custody/http; kept until every importer is switched.
export * from "@custody/http";
