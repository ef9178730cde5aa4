{#- Generic test: the table itself enforces its business key (a unique index on exactly the key
    columns, each NOT NULL) and a load_id on every row (NOT NULL): what the incremental models'
    post-hook enforce_key() sets up. It replaces the `unique` and `not_null` tests on those
    columns: a table with these constraints cannot hold a duplicate or a NULL, so the test
    reads the catalog instead of scanning (and sorting) every row of the table at every build.
    A column test for a one-column key; a model test with `columns` for a composite key.
    One row per missing guarantee. -#}
{% test enforced_key(model, column_name=none, columns=none) %}
    {%- set key = columns or [column_name] -%}
    with

    expected as (
        {%- for column in key %}
        select
            '{{ column }}' as column_name,
            true as in_key
        union all
        {%- endfor %}
        select
            'load_id' as column_name,
            false as in_key
    ),

    attributes as (
        select
            a.attname,
            a.attnum,
            a.attnotnull
        from pg_attribute as a
        where a.attrelid = '{{ model }}'::regclass and a.attnum > 0 and not a.attisdropped
    ),

    key_indexes as (
        {{ unique_key_indexes(model, key) }}
    )

    select
        e.column_name,
        case
            when a.attname is null then 'missing column'
            when not a.attnotnull then 'nullable'
            else 'no unique index on exactly the key columns'
        end as problem
    from expected as e
    left join attributes as a on e.column_name = a.attname
    where
        a.attname is null
        or not a.attnotnull
        or (e.in_key and not exists (select 1 from key_indexes))
{% endtest %}
