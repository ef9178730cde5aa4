{#- Customers of the CRM_CUSTOMER snapshot for the period, without personal data (no name,
    ID number or phone, not even pseudonyms): city, segment, value tier, join date.
    Incremental, but always one whole snapshot: a build writes the period's snapshot when
    the table holds another snapshot, an older build of it (a new or corrected delivery) or
    was built for another period (is_joined_by_last_day depends on it), and then drops every
    row the write did not replace; otherwise it writes nothing, so a day without a new
    snapshot costs nothing. -#}
{{ config(
    materialized='incremental',
    unique_key='customer_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['customer_id'], 'unique': true}, {'columns': ['refreshed_at']}],
    post_hook=[
        "{{ keep_latest_build_only() }}",
        "{{ enforce_key('customer_id') }}",
    ],
) }}

with

staged as (
    select * from {{ ref('stg_crm__customers') }}
),

customers as (
    select * from staged
    where
        {{ period_snapshot_filter(ref('stg_crm__customers')) }}
        {%- if incremental_ready() %}
        -- the table already holds this build of the period's snapshot: nothing to write
        -- (uncorrelated, so PostgreSQL decides once, before reading any snapshot row)
        and not exists (
            select 1
            from (
                select t.snapshot_date, t.period_last_day, t.refreshed_at from {{ this }} as t limit 1
            ) as held
            where
                held.period_last_day = {{ period_last_day() }}
                and held.snapshot_date = {{ period_snapshot_date(ref('stg_crm__customers')) }}
                and held.refreshed_at >= (
                    select s.refreshed_at
                    from {{ ref('stg_crm__customers') }} as s
                    where s.snapshot_date = {{ period_snapshot_date(ref('stg_crm__customers')) }}
                    limit 1
                )
        )
        {%- endif %}
),

final as (
    select
        customer_id,
        city_code,
        segment,
        value_tier,
        join_date,
        coalesce(join_date <= {{ period_last_day() }}, false) as is_joined_by_last_day,
        {{ period_last_day() }} as period_last_day,
        snapshot_date,
        load_id,
        now() as refreshed_at
    from customers
)

select * from final
