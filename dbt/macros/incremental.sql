{#- Incremental builds of the large entities (CC_CALL, BSS_ORDER, BSS_FAULT, CRM_COMPLAINT).

    Every row of an incremental model carries load_id (the load of the delivery that won the
    de-duplication) and refreshed_at (when this model last wrote the row). A build touches
    only the business keys that changed since the model's previous build:

    - staging reads raw rows of loads it has not seen yet (audit.load_manifest, LOADED, not
      present in the model), found through raw's BRIN index on _load_id: about a day's rows;
    - downstream models read upstream rows with refreshed_at after their own latest write;
    - a corrected re-delivery makes the loader delete the day's earlier load (manifest status
      REPLACED). Rows that came from a replaced load are *stale*: their keys are rebuilt from
      what raw still holds (staging then scans raw for exactly those keys), and a post-hook
      deletes what is still stale afterwards, i.e. keys the correction removed.

    A table built before these columns existed is rebuilt in place by its first build: the
    model then selects everything (incremental_ready() is false), on_schema_change adds the
    columns, delete+insert replaces every key still delivered and the post-hook drops the
    rest (rows without load_id).

    The load lists are read at compile time and written into the SQL as literals, so the
    compiled model (target/) shows exactly which loads a build processed.
    A change of the pseudonymisation key or of the time_limits seed needs `--full-refresh`. -#}

{#- Load ids of `entity` that a build of {{ this }} must process: `new` (LOADED loads with
    rows, not yet in this model) and `stale` (replaced loads whose rows are still in this
    model). Empty lists outside incremental runs. -#}
{% macro incremental_loads(entity) -%}
    {%- set loads = {'new': [], 'stale': []} -%}
    {%- if execute and incremental_ready() -%}
        {%- set query -%}
            select m.load_id, m.status = 'LOADED' as is_live
            from {{ source('audit', 'load_manifest') }} as m
            where
                m.entity = '{{ entity }}'
                and (
                    (
                        m.status = 'LOADED'
                        and m.rows_loaded > 0
                        and not exists (select 1 from {{ this }} as t where t.load_id = m.load_id)
                    )
                    or (
                        m.status <> 'LOADED'
                        and exists (select 1 from {{ this }} as t where t.load_id = m.load_id)
                    )
                )
            order by m.load_id
        {%- endset -%}
        {%- for row in run_query(query).rows -%}
            {%- do loads[('new' if row[1] else 'stale')].append(row[0] | int) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(loads) }}
{%- endmacro %}

{#- is_incremental(), and the existing table has the columns incremental builds need. -#}
{% macro incremental_ready(needs=['load_id', 'refreshed_at']) -%}
    {%- if not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- for column in needs if column not in existing -%}
        {{ return(false) }}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}

{#- A SQL list of load ids; an empty list matches nothing. -#}
{% macro load_list(ids) -%}
    ({{ ids | join(', ') if ids else 'null' }})
{%- endmacro %}

{#- Upstream rows written since this model's latest write (downstream of staging). The
    model's latest write is read when the build starts and written into the SQL as a
    literal, like the load lists: the planner then sees how few rows are that new (the
    refreshed_at index and its statistics) and reads them through the index, where a
    subquery left it guessing a third of the table and scanning all of it. -#}
{% macro refreshed_since_last_build(column='refreshed_at') -%}
    {{ column }} > {{ last_build_stamp() }}
{%- endmacro %}

{% macro last_build_stamp() -%}
    {%- set query = "select coalesce(max(refreshed_at), '-infinity'::timestamptz) from " ~ this -%}
    {%- if execute and incremental_ready(needs=['refreshed_at']) -%}
        {#- '@' keeps dbt from turning the text into a datetime (and dropping its offset) -#}
        {%- set stamp = run_query("select '@' || (" ~ query ~ ")::text").rows[0][0][1:] -%}
        {{- "timestamptz '" ~ stamp ~ "'" -}}
    {%- else -%}
        ({{ query }})
    {%- endif -%}
{%- endmacro %}

{#- Which of several deliveries of one business key wins: the later business day, then the
    later load, then the later record of the file. A later delivery carries the later state
    of an item whose lifecycle spans days (a fault reported on day 1 and restored on day 2). -#}
{% macro delivery_order(prefix='') -%}
    {{ prefix }}business_date desc nulls last, {{ prefix }}load_id desc, {{ prefix }}record_no desc
{%- endmacro %}

{#- Post-hook of every incremental model: rows still coming from a replaced load belong to
    keys a corrected re-delivery removed (rows without load_id: left from a build before the
    model was incremental, keys no longer delivered). -#}
{% macro delete_stale_rows(entity, column='load_id') -%}
    -- two statements: with an OR between them neither could use the index on the column
    delete from {{ this }}
    where {{ column }} in (
        select m.load_id
        from {{ source('audit', 'load_manifest') }} as m
        where m.entity = '{{ entity }}' and m.status <> 'LOADED'
    );
    delete from {{ this }} where {{ column }} is null
{%- endmacro %}

{#- Pre-hook of a model that holds one whole snapshot of `staged` (dim_customer): empty the
    table when it holds another snapshot than the period's, or an older build of it (written
    before staging last rewrote that snapshot), or was built before it was incremental. The
    build then writes the snapshot into an empty table (TRUNCATE: no row-by-row delete, and
    no WAL for the new rows at wal_level minimal); otherwise the table is kept as it is. -#}
{% macro empty_if_snapshot_changed(staged) -%}
    {%- if incremental_ready() %}
    do $empty$
    begin
        if exists (select 1 from {{ this }}) and not exists (
            select 1
            from (select t.snapshot_date, t.refreshed_at from {{ this }} as t limit 1) as held
            where
                held.snapshot_date = {{ period_snapshot_date(staged) }}
                and held.refreshed_at >= (
                    select s.refreshed_at
                    from {{ staged }} as s
                    where s.snapshot_date = {{ period_snapshot_date(staged) }}
                    limit 1
                )
        ) then
            truncate {{ this }};
        end if;
    end
    $empty$
    {%- elif is_incremental() %}
    truncate {{ this }}
    {%- endif %}
{%- endmacro %}

{#- Post-hook of every incremental model, after delete_stale_rows(): the business key (one
    column or a list) is unique and not null and every row has its load_id, enforced by the
    table itself (NOT NULL constraints and a unique index), so no build can write a duplicate
    or a key-less row and no dbt test has to scan the table for them. A fresh table has dbt's
    unique index (config) and the NOT NULLs cost one scan at its first build; later builds
    find both in place (no scan). A table built before it was incremental gets them here. -#}
{% macro enforce_key(unique_key) -%}
    {%- set columns = [unique_key] if unique_key is string else unique_key -%}
    alter table {{ this }}
        {%- for column in columns %}
        alter column {{ adapter.quote(column) }} set not null,
        {%- endfor %}
        alter column load_id set not null;
    do $enforce_key$
    begin
        if not exists ({{ unique_key_indexes(this, columns) }}) then
            create unique index on {{ this }} (
                {%- for column in columns %}{{ adapter.quote(column) }}{{ ', ' if not loop.last }}{% endfor -%}
            );
        end if;
    end
    $enforce_key$
{%- endmacro %}

{#- The valid unique indexes of `relation` whose key columns are exactly `columns` (any order;
    no partial index). Shared by enforce_key() and the enforced_key test. -#}
{% macro unique_key_indexes(relation, columns) -%}
    select i.indexrelid
    from pg_index as i
    where
        i.indrelid = '{{ relation }}'::regclass
        and i.indisunique
        and i.indisvalid
        and i.indpred is null
        and i.indnkeyatts = {{ columns | length }}
        and (
            select array_agg(a.attname::text order by a.attname::text collate "C")
            from pg_attribute as a
            where
                a.attrelid = i.indrelid
                and a.attnum = any((i.indkey::int2 [])[0:i.indnkeyatts - 1])
        ) = array['{{ columns | sort | join("', '") }}']::text []
{%- endmacro %}

{#- The config every incremental model shares: delete+insert by its business key, indexes on
    the key and on the incremental bookkeeping columns (plus the model's own), and the
    post-hooks that drop rows of replaced loads and enforce the key (enforce_key()). -#}
{% macro incremental_config(entity, unique_key, extra_indexes=[], extra_post_hooks=[]) -%}
    {{ config(
        materialized='incremental',
        unique_key=unique_key,
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': [unique_key], 'unique': true},
            {'columns': ['load_id']},
            {'columns': ['refreshed_at']},
        ] + extra_indexes,
        post_hook=["{{ delete_stale_rows('" ~ entity ~ "') }}"] + extra_post_hooks + [
            "{{ enforce_key('" ~ unique_key ~ "') }}",
        ],
    ) }}
{%- endmacro %}

{#- WHERE clause of an incremental model's upstream CTE: the rows matching `changed_rows`, and
    the rows of keys this model still holds from replaced loads (rebuilt from what is left).
    Nothing outside incremental runs: a full build reads everything. -#}
{% macro changed_or_stale_keys(key, loads, changed_rows) -%}
    {%- if incremental_ready() %}
    where
        {{ changed_rows }}
        {%- if loads.stale %}
        or {{ key }} in (select t.{{ key }} from {{ this }} as t where t.load_id in {{ load_list(loads.stale) }})
        {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- Staging: the raw rows of new loads (raw's BRIN index on _load_id finds them). -#}
{% macro new_loads_filter(key, loads) -%}
    {{ changed_or_stale_keys(key, loads, '_load_id in ' ~ load_list(loads.new)) }}
{%- endmacro %}

{#- Downstream of staging: the upstream rows written since this model's latest write. -#}
{% macro refreshed_rows_filter(key, loads) -%}
    {{ changed_or_stale_keys(key, loads, refreshed_since_last_build()) }}
{%- endmacro %}

{#- Staging of a snapshot entity: every raw row of the snapshot days that new loads deliver
    (a snapshot is delivered whole; a day's earlier load is replaced, not added to). -#}
{% macro new_snapshots_filter(entity, loads) -%}
    {%- if incremental_ready() %}
    where _load_id in (
        select m.load_id
        from {{ source('audit', 'load_manifest') }} as m
        where
            m.entity = '{{ entity }}'
            and m.status = 'LOADED'
            and m.business_date in (
                select n.business_date
                from {{ source('audit', 'load_manifest') }} as n
                where n.load_id in {{ load_list(loads.new) }}
            )
    )
    {%- endif %}
{%- endmacro %}

{#- UNION ALL branch of a staging model's candidates: the current row of every key in
    `changed` (not from a replaced load) competes with the new deliveries. `columns` are the
    output columns of `changed` in their order (a union matches columns by position). -#}
{% macro current_winners(key, columns, loads, changed='renamed') -%}
    {%- if incremental_ready() %}
    union all
    select
        {%- for column in columns %}
        t.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ this }} as t
    where
        t.{{ key }} in (select r.{{ key }} from {{ changed }} as r)
        {%- if loads.stale %}
        and t.load_id not in {{ load_list(loads.stale) }}
        {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- One row per business key of `relation`, the latest delivery (delivery_order()), stamped
    with this build's refreshed_at. -#}
{% macro latest_delivery(key, relation='candidates') -%}
    select distinct on ({{ key }})
        *,
        now() as refreshed_at
    from {{ relation }}
    order by {{ key }} asc, {{ delivery_order() }}
{%- endmacro %}

{#- Body of the `changed` CTE of a model whose rows depend on a timeline of other rows (the
    repeat-call and repeat-fault windows): the key and timeline columns of every `staged` row
    written since this model's latest build, and of the previous version held here of each
    changed or removed row (its old timeline), and of rows left from replaced loads. -#}
{% macro changed_and_previous_versions(key, columns, loads, staged='staged') -%}
    select
        {{ key }},
        {{ columns | join(', ') }}
    from {{ staged }}
    where {{ refreshed_since_last_build() }}
    union all
    select
        t.{{ key }},
        t.{{ columns | join(', t.') }}
    from {{ this }} as t
    where
        t.{{ key }} in (
            select s.{{ key }} from {{ staged }} as s
            where {{ refreshed_since_last_build('s.refreshed_at') }}
        )
        {%- if loads.stale %}
        or t.load_id in {{ load_list(loads.stale) }}
        {%- endif %}
{%- endmacro %}
