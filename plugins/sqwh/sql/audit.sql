-- The audit ledger (schema audit), owned by etl_writer.

create table if not exists audit.load_manifest (
    load_id bigint generated always as identity primary key,
    run_id text,
    system text not null,
    entity text,
    file_name text not null,
    file_path text not null,
    business_date date,
    sha256 text,
    md5 text,
    byte_size bigint,
    declared_records bigint,
    rows_read bigint,
    rows_loaded bigint,
    rows_rejected bigint,
    status text not null check (status in ('LOADED', 'DUPLICATE', 'REFUSED', 'FAILED')),
    reason text,
    archive_path text,
    started_at timestamptz not null default now(),
    finished_at timestamptz
);
alter table audit.load_manifest add column if not exists duplicate_keys bigint;
alter table audit.load_manifest add column if not exists encoding text;
alter table audit.load_manifest add column if not exists notes text;
-- the loaded file's modification time (ns since the epoch): with file_path and byte_size it
-- lets a re-run skip a file already loaded without reading (fingerprinting) it again
alter table audit.load_manifest add column if not exists file_mtime_ns bigint;
create index if not exists load_manifest_loaded_path
    on audit.load_manifest (file_path) where status = 'LOADED';
-- REPLACED: a corrected re-delivery of the same entity and business day superseded this load.
alter table audit.load_manifest drop constraint if exists load_manifest_status_check;
alter table audit.load_manifest add constraint load_manifest_status_check
    check (status in ('LOADED', 'DUPLICATE', 'REFUSED', 'FAILED', 'REPLACED'));
-- A file's bytes are loaded at most once, whatever its name and however often it is delivered.
-- Header-only files ("no events that day") are byte-identical across days, so they are
-- identified by entity and day instead.
drop index if exists audit.load_manifest_loaded_once;
create unique index if not exists load_manifest_loaded_once_v2
    on audit.load_manifest (sha256) where status = 'LOADED' and declared_records > 0;
create index if not exists load_manifest_entity on audit.load_manifest (entity, business_date);

create table if not exists audit.validation_run (
    validation_id bigint generated always as identity primary key,
    run_id text,
    period text not null,
    suite text not null,
    checkpoint text not null,
    success boolean not null,
    statistics jsonb,
    failures jsonb,
    result_path text,
    validated_at timestamptz not null default now()
);

create table if not exists audit.publication (
    publication_id bigint generated always as identity primary key,
    period text not null,
    run_id text,
    code_version text,
    dbt_manifest_hash text,
    catalogue_version text,
    input_files jsonb not null,
    validation_ids bigint [] not null,
    row_count integer not null,
    published_at timestamptz not null default now(),
    published_by text not null default current_user
);

-- one row per finally failed Airflow task (sqwh.alerts.AuditAlertNotifier)
create table if not exists audit.alert (
    alert_id bigint generated always as identity primary key,
    raised_at timestamptz not null default now(),
    dag_id text not null,
    task_id text,
    run_id text,
    try_number integer,
    period text,
    kind text not null,
    message text not null,
    log_url text
);

-- A correction after publication (reliability.md B7): a re-publication of a period names why,
-- and which publication it supersedes; the figures that changed are listed with old and new
-- values (audit.publication_change), and the superseded figures are kept verbatim
-- (audit.superseded_indicators, created in reporting.sql next to the table it copies).
alter table audit.publication add column if not exists reason text;
alter table audit.publication add column if not exists supersedes bigint
    references audit.publication (publication_id);
create table if not exists audit.publication_change (
    publication_id bigint not null references audit.publication (publication_id),
    supersedes bigint not null references audit.publication (publication_id),
    period text not null,
    indicator_code text not null,
    geo_level text not null,
    city_code text,
    breakdown_type text,
    breakdown text,
    old_numerator numeric,
    old_denominator numeric,
    old_value numeric,
    new_numerator numeric,
    new_denominator numeric,
    new_value numeric
);
create index if not exists publication_change_publication on audit.publication_change (publication_id);
