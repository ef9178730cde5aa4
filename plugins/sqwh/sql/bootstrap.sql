-- Warehouse bootstrap: roles, schemas, audit ledger. Idempotent; run by `sqwh warehouse init`
-- and before every run, as a role that may create roles (the embedded default is superuser).

do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'etl_writer') then
        create role etl_writer login;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'bi_reader') then
        create role bi_reader login;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'auditor') then
        create role auditor login in role bi_reader;
    end if;
end
$$;

grant etl_writer to current_user;

create schema if not exists raw authorization etl_writer;
create schema if not exists private authorization etl_writer;
create schema if not exists staging authorization etl_writer;
create schema if not exists intermediate authorization etl_writer;
create schema if not exists marts authorization etl_writer;
create schema if not exists candidate authorization etl_writer;
create schema if not exists reporting authorization etl_writer;
create schema if not exists audit authorization etl_writer;

-- Least privilege: PUBLIC gets nothing in our schemas; readers get exactly what they need.
revoke all on schema raw, private, staging, intermediate, marts, candidate, reporting, audit from public;
grant usage on schema reporting to bi_reader;
grant usage on schema marts to bi_reader;
grant usage on schema audit to auditor;
alter default privileges for role etl_writer in schema reporting grant select on tables to bi_reader;
alter default privileges for role etl_writer in schema audit grant select on tables to auditor;
