{#- source_day_coverage: the dense entities, the staging model holding their items and the
    column whose local day an item counts on. -#}
{% macro coverage_sources() -%}
    {{ return([
        {'entity': 'CC_CALL', 'model': 'stg_cc__calls', 'time': 'call_start'},
        {'entity': 'BSS_ORDER', 'model': 'stg_bss__orders', 'time': 'accept_time'},
    ]) }}
{%- endmacro %}

{#- Items per entity, local day and city: of every day, or (changed_days_only) of the days
    that have items staging wrote since this model's latest build. Those are found through
    staging's refreshed_at index, and their items through a range on the item's time (the
    tables are written in day order, so the range reads about those days' blocks). -#}
{% macro coverage_counts(changed_days_only=false) -%}
    {%- for s in coverage_sources() %}
    {%- set relation = ref(s.model) %}
    {%- if changed_days_only %}
    (
        with changed_days as (
            select distinct {{ local_date(s.time) }} as business_date
            from {{ relation }}
            where {{ refreshed_since_last_build() }}
        )

        select
            '{{ s.entity }}' as entity,
            {{ local_date('i.' ~ s.time) }} as business_date,
            i.city_code,
            count(*) as item_count
        from {{ relation }} as i
        where
            i.{{ s.time }} >= (
                select min(d.business_date)::timestamp at time zone '{{ var("timezone") }}'
                from changed_days as d
            )
            and i.{{ s.time }} < (
                select (max(d.business_date) + 1)::timestamp at time zone '{{ var("timezone") }}'
                from changed_days as d
            )
            and {{ local_date('i.' ~ s.time) }} in (select d.business_date from changed_days as d)
        group by 2, 3
    )
    {%- else %}
    select
        '{{ s.entity }}' as entity,
        {{ local_date(s.time) }} as business_date,
        city_code,
        count(*) as item_count
    from {{ relation }}
    group by 2, 3
    {%- endif %}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The rows of source_day_coverage (the model, and the post-hook's recount). -#}
{% macro coverage_rows(changed_days_only=false) -%}
    select
        entity,
        business_date,
        city_code,
        item_count,
        now() as refreshed_at
    from ({{ coverage_counts(changed_days_only) }}) as counted
{%- endmacro %}

{#- Post-hook of source_day_coverage: when the per-entity totals differ from staging's item
    counts (items left a day that was not recounted), recount every day. -#}
{% macro recount_coverage_if_totals_differ() -%}
    do $coverage$
    begin
        if exists (
            select 1
            from (
                {%- for s in coverage_sources() %}
                select '{{ s.entity }}' as entity, count(*) as items from {{ ref(s.model) }}
                {{ 'union all' if not loop.last }}
                {%- endfor %}
            ) as staged
            full join (
                select entity, sum(item_count) as items from {{ this }} group by entity
            ) as held using (entity)
            where coalesce(staged.items, 0) <> coalesce(held.items, 0)
        ) then
            raise notice '%: totals differ from staging; recounting every day', '{{ this }}';
            delete from {{ this }};
            insert into {{ this }} (entity, business_date, city_code, item_count, refreshed_at)
            {{ coverage_rows(false) }};
        end if;
    end
    $coverage$
{%- endmacro %}
