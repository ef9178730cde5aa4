{#- Column tests that the table itself enforces.

    A model's `not_null` and `accepted_values` tests (error severity, no `where`) are turned
    into table constraints by the post-hook enforce_column_tests(): NOT NULL, and a CHECK
    named after the column and the accepted values. PostgreSQL then refuses any row that would
    fail them, at the build that writes it ("violates check constraint", with the row), and
    the tests below read the catalog instead of scanning the table: a build adds all missing
    constraints in one ALTER TABLE, i.e. one scan for all of them, and an incremental build
    checks only the rows it writes. A day's build of a 30 M-row table then costs a day's
    work, not one scan per test.

    The overrides of dbt's not_null / accepted_values keep dbt's SQL and add one condition,
    true when the relation does not enforce the test: PostgreSQL evaluates it once, before
    the scan, and skips the scan when it is false (a "one-time filter"). A view, a table
    without the constraint, or a filtered test (`where`) is scanned as before. -#}

{#- The tests of the current model that its table can enforce, from the project graph:
    {'not_null': [column, ...], 'accepted_values': {column: [value, ...]},
     'key': [the enforced_key test's columns]}. -#}
{% macro enforceable_tests(node_id) -%}
    {%- set found = {'not_null': [], 'accepted_values': {}, 'key': []} -%}
    {%- for node in graph.nodes.values() -%}
        {%- set meta = node.get('test_metadata') or {} -%}
        {%- set kwargs = meta.get('kwargs') or {} -%}
        {%- set config = node.get('config') or {} -%}
        {%- if node.resource_type == 'test'
            and node.get('attached_node') == node_id
            and (config.get('severity') or 'error') | lower == 'error'
            and not config.get('where') -%}
            {%- set column = kwargs.get('column_name') -%}
            {%- if meta.get('name') == 'enforced_key' -%}
                {%- do found['key'].extend(kwargs.get('columns') or [column]) -%}
            {%- elif meta.get('name') == 'not_null' and column -%}
                {%- do found['not_null'].append(column) -%}
            {%- elif meta.get('name') == 'accepted_values' and column and kwargs.get('quote', true) -%}
                {%- do found['accepted_values'].update({column: kwargs['values']}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#- Name of the CHECK constraint for accepted values: the column and a digest of the values,
    so a changed list in the yml makes a new constraint (the old one is dropped). -#}
{% macro accepted_values_constraint(column_name, values) -%}
    {{- 'accepted__' ~ column_name[:36] ~ '__' ~ local_md5(values | map('string') | join('\x1f'))[:8] -}}
{%- endmacro %}

{#- Post-hook of the table models: add the constraints for the model's enforceable tests that
    the table does not have yet, in one ALTER TABLE (one validation scan). In a build that
    created the table, that ALTER also sets the NOT NULLs of an enforced_key test (the key
    and load_id), which enforce_key() would otherwise add in a second ALTER, i.e. a second
    scan; an existing table keeps them to enforce_key(), which runs after the stale rows (a
    table from before the model was incremental has rows without load_id) are deleted. -#}
{% macro enforce_column_tests() -%}
    {%- set tests = enforceable_tests(model.unique_id) if execute else {} -%}
    {%- if execute and config.get('materialized') in ('table', 'incremental')
        and (tests['not_null'] or tests['accepted_values'] or tests['key']) %}
    do $enforce$
    declare
        todo text[] := '{}';
        stale record;
        is_new boolean := current_setting('sqwh.new_table', true) = '{{ this }}';
    begin
        {%- for column in tests['not_null'] | unique %}
        if not (
            select a.attnotnull from pg_attribute as a
            where a.attrelid = '{{ this }}'::regclass and a.attname = '{{ column }}'
        ) then
            todo := array_append(todo, 'alter column {{ adapter.quote(column) }} set not null');
        end if;
        {%- endfor %}
        {%- for column in tests['key'] + ['load_id'] if tests['key'] and column not in tests['not_null'] %}
        if is_new then
            todo := array_append(todo, 'alter column {{ adapter.quote(column) }} set not null');
        end if;
        {%- endfor %}
        {%- for column, values in tests['accepted_values'].items() %}
        {%- set name = accepted_values_constraint(column, values) %}
        for stale in
            select c.conname from pg_constraint as c
            where
                c.conrelid = '{{ this }}'::regclass
                and c.conname like 'accepted\_\_{{ column[:36] | replace('_', '\\_') }}\_\_%'
                and c.conname <> '{{ name }}'
        loop
            todo := array_append(todo, format('drop constraint %I', stale.conname));
        end loop;
        if not exists (
            select 1 from pg_constraint as c
            where c.conrelid = '{{ this }}'::regclass and c.conname = '{{ name }}'
        ) then
            todo := array_append(todo, $add$add constraint {{ adapter.quote(name) }}
                check ({{ adapter.quote(column) }} in ({{ sql_text_list(values) }}))$add$);
        end if;
        {%- endfor %}
        if cardinality(todo) > 0 then
            execute format('alter table %s %s', '{{ this }}', array_to_string(todo, ', '));
        end if;
    end
    $enforce$
    {%- endif %}
{%- endmacro %}

{#- Pre-hook of every model: note, for this transaction, that the build is about to create the
    table (a first or full-refresh build of an incremental model); its post-hooks run in the
    same transaction, after the table exists, when is_incremental() no longer tells. -#}
{% macro note_new_table() -%}
    {%- if execute and config.get('materialized') == 'incremental' and not is_incremental() -%}
        select set_config('sqwh.new_table', '{{ this }}', true)
    {%- endif -%}
{%- endmacro %}

{#- 'a', 'b', ... (quotes doubled) -#}
{% macro sql_text_list(values) -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}
        {%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {{- quoted | join(', ') -}}
{%- endmacro %}

{#- A test's relation, when the test reads a whole relation (not a `where` subquery). -#}
{% macro whole_relation(model) -%}
    {{ return(none if model is string else model) }}
{%- endmacro %}

{% macro default__test_not_null(model, column_name) -%}
    {%- set relation = whole_relation(model) -%}
    {%- set column_list = '*' if should_store_failures() else column_name -%}
    select {{ column_list }}
    from {{ model }}
    where
        {{ column_name }} is null
        {%- if relation is not none %}
        -- the table refuses NULLs: no scan
        and not exists (
            select 1 from pg_attribute as a
            where a.attrelid = '{{ relation }}'::regclass and a.attname = '{{ column_name }}' and a.attnotnull
        )
        {%- endif %}
{%- endmacro %}

{% macro default__test_accepted_values(model, column_name, values, quote=True) -%}
    {%- set relation = whole_relation(model) -%}
    with all_values as (
        select
            {{ column_name }} as value_field,
            count(*) as n_records
        from {{ model }}
        group by {{ column_name }}
    )

    select *
    from all_values
    where
        value_field not in (
            {%- for value in values -%}
            {%- if quote -%}'{{ value }}'{%- else -%}{{ value }}{%- endif -%}{{ ", " if not loop.last }}
            {%- endfor -%}
        )
        {%- if relation is not none and quote %}
        -- the table refuses other values: no scan
        and not exists (
            select 1 from pg_constraint as c
            where
                c.conrelid = '{{ relation }}'::regclass
                and c.conname = '{{ accepted_values_constraint(column_name, values) }}'
                and c.convalidated
        )
        {%- endif %}
{%- endmacro %}
