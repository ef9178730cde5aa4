{#- Generic test: the table itself enforces its business key (unique index on the column alone,
    NOT NULL) and a load_id on every row (NOT NULL): what the incremental models' post-hook
    enforce_key() sets up. It replaces the `unique` and `not_null` tests on those columns: a
    table with these constraints cannot hold a duplicate or a NULL, so the test reads the
    catalog instead of scanning (and sorting) every row of the table at every build.
    One row per missing guarantee. -#}
{% test enforced_key(model, column_name) %}
    with

    expected as (
        select
            '{{ column_name }}' as column_name,
            true as needs_unique
        union all
        select
            'load_id' as column_name,
            false as needs_unique
    ),

    attributes as (
        select
            a.attname,
            a.attnum,
            a.attnotnull
        from pg_attribute as a
        where a.attrelid = '{{ model }}'::regclass and a.attnum > 0 and not a.attisdropped
    )

    select
        e.column_name,
        case
            when a.attname is null then 'missing column'
            when not a.attnotnull then 'nullable'
            else 'no unique index on the column alone'
        end as problem
    from expected as e
    left join attributes as a on e.column_name = a.attname
    where
        a.attname is null
        or not a.attnotnull
        or (
            e.needs_unique
            and not exists (
                select 1
                from pg_index as i
                where
                    i.indrelid = '{{ model }}'::regclass
                    and i.indisunique
                    and i.indisvalid
                    and i.indnkeyatts = 1
                    and i.indpred is null
                    and i.indkey[0] = a.attnum
            )
        )
{% endtest %}
