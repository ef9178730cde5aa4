-- Pseudonymisation key (schema private: etl_writer only). HMAC-SHA256 is computed in SQL from
-- the precomputed inner/outer padded keys, because pgcrypto is not in every build (not in the
-- embedded one): hmac(k, m) = sha256(outer_key || sha256(inner_key || m)).
create table if not exists private.pseudonym_key (
    id integer primary key default 1 check (id = 1),
    inner_key bytea not null,
    outer_key bytea not null,
    key_fingerprint text not null
);

-- Timestamps arrive as 'YYYY-MM-DD HH:MM:SS' or 'YYYYMMDDHHMMSS' (local time). These inlinable
-- SQL functions validate without raising, so one bad cell quarantines its row instead of
-- aborting the whole COPY; the loader casts only rows that passed.
create or replace function private.norm_ts(v text) returns text
language sql immutable parallel safe as $$
    select case
        when v ~ '^[0-9]{14}$' then
            substr(v, 1, 4) || '-' || substr(v, 5, 2) || '-' || substr(v, 7, 2) || ' '
            || substr(v, 9, 2) || ':' || substr(v, 11, 2) || ':' || substr(v, 13, 2)
        when v ~ '^[0-9]{8}$' then
            substr(v, 1, 4) || '-' || substr(v, 5, 2) || '-' || substr(v, 7, 2) || ' 00:00:00'
        when v ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then v || ' 00:00:00'
        else v
    end
$$;

create or replace function private.is_ts(v text) returns boolean
language sql immutable parallel safe as $$
    select private.norm_ts(v)
        ~ '^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]) ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$'
        and substr(private.norm_ts(v), 9, 2)::int <= extract(day from (
            make_date(substr(private.norm_ts(v), 1, 4)::int, substr(private.norm_ts(v), 6, 2)::int, 1)
            + interval '1 month' - interval '1 day'))
$$;

-- The stamping defaults of the raw tables (schema.direct_copy_ddl): the load id and business
-- day of the load transaction (settings sqwh.load_id / sqwh.business_date, set by the loader).
-- Declared IMMUTABLE although they read a setting, on purpose: PostgreSQL pre-evaluates an
-- immutable call without arguments once when a statement starts (COPY plans its defaults
-- then), so a COPY of 2 M rows reads the setting once instead of 2 M times (0.3 s of server
-- CPU per 1 M rows). That is right for every writer of the raw tables: only the loader
-- inserts, one statement per setting value; outside a load the setting is unset and the call
-- fails loudly, as before. Not for use in indexes, views or cached plans.
create or replace function private.load_id_setting() returns bigint
language plpgsql immutable as $$
begin
    return current_setting('sqwh.load_id')::bigint;
end
$$;

create or replace function private.business_date_setting() returns date
language plpgsql immutable as $$
begin
    return current_setting('sqwh.business_date')::date;
end
$$;
