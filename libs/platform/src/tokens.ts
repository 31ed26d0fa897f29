export const RUNTIME = Symbol('RUNTIME');
/** Kysely<Database> on the primary. */
export const DB = Symbol('DB');
/** Kysely<Database> for read-model queries (a replica when READ_DATABASE_URL is set; see ReadYourWrites). */
export const READ_DB = Symbol('READ_DB');
