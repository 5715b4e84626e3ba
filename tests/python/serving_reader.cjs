// The Node.js reader of the serving copy, run by test_serving.py with @duckdb/node-api
// (a DuckDB 1.x client, as BI tools built on Node.js use):
//   node serving_reader.cjs CLIENT_DIR SPEC
// CLIENT_DIR holds node_modules/@duckdb/node-api; SPEC is the JSON of serving_reader.py
// (databases, parquet_dir, relations). Prints, as JSON, the DuckDB version and, per
// database file and for the Parquet files, the rows read of every mart relation.
"use strict";
const path = require("node:path");

async function rowCounts(duckdb, file, sources) {
  const instance = await duckdb.DuckDBInstance.create(file, file === ":memory:" ? {} : { access_mode: "READ_ONLY" });
  const connection = await instance.connect();
  try {
    const counts = {};
    for (const [name, source] of Object.entries(sources)) {
      const reader = await connection.runAndReadAll(`select * from ${source}`);
      reader.getRowObjectsJson(); // decode every value
      counts[name] = reader.currentRowCount;
    }
    return counts;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function main() {
  const duckdb = require(path.join(process.argv[2], "node_modules", "@duckdb", "node-api"));
  const spec = JSON.parse(process.argv[3]);
  const result = { version: duckdb.version(), databases: {}, parquet: null };
  for (const file of spec.databases) {
    result.databases[file] = await rowCounts(
      duckdb,
      file,
      Object.fromEntries(spec.relations.map((name) => [name, `marts."${name}"`])),
    );
  }
  if (spec.parquet_dir) {
    result.parquet = await rowCounts(
      duckdb,
      ":memory:",
      Object.fromEntries(
        spec.relations.map((name) => [name, `read_parquet('${path.join(spec.parquet_dir, name + ".parquet")}')`]),
      ),
    );
  }
  console.log(JSON.stringify(result));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
