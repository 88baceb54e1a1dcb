"""Reports' use cases, one module per subject: what each event adds to the aggregates (`aggregates`),
the reports read from them (`queries`), their files and charts (`render`), scheduled and requested runs
(`runs`) and the visit beacon (`visits`). Handlers call these with what `reports.wiring` builds."""
