{#- BSS_ORDER, one row per order_id (the latest delivery wins; see macros/incremental.sql),
    subscriber pseudonymised; test and cancelled orders flagged, never dropped here.
    Incremental: a build reads the raw rows of new loads only. -#}
{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['order_id'], 'unique': true},
            {'columns': ['load_id']},
            {'columns': ['refreshed_at']},
        ],
        post_hook="{{ delete_stale_rows('BSS_ORDER') }}",
    )
}}
{%- set loads = incremental_loads('BSS_ORDER') %}

with

source as (
    select * from {{ source('raw', 'bss_order') }}
    {%- if incremental_ready() %}
    where
        _load_id in {{ load_list(loads.new) }}
    {%- if loads.stale %}
        or order_id in (select order_id from {{ this }} where load_id in {{ load_list(loads.stale) }})
        {%- endif %}
    {%- endif %}
),

renamed as (
    select
        s.order_id,
        s.order_type,
        s.product,
        {{ pseudonymise('s.subscriber_no') }} as subscriber_no_key,
        s.city_code,
        s.county_code,
        s.area_type,
        s.channel_type,
        s.outlet_id,
        s.accept_time,
        s.promise_time,
        s.complete_time,
        s.queue_wait_sec,
        s.handle_sec,
        s.payment_time,
        s.status,
        s.test_flag,
        s.test_flag = 1 as is_test,
        s.status = 'CANCELLED' as is_cancelled,
        (s.test_flag = 0 and s.status <> 'CANCELLED') as is_countable,
        s._business_date as business_date,
        s._load_id as load_id,
        s._record_no as record_no
    from source as s
    cross join {{ pseudonym_key_relation() }} as k
),

candidates as (
    select * from renamed
    {%- if incremental_ready() %}
    union all
    -- the current winner of a changed key competes with the new deliveries
    select
        t.order_id,
        t.order_type,
        t.product,
        t.subscriber_no_key,
        t.city_code,
        t.county_code,
        t.area_type,
        t.channel_type,
        t.outlet_id,
        t.accept_time,
        t.promise_time,
        t.complete_time,
        t.queue_wait_sec,
        t.handle_sec,
        t.payment_time,
        t.status,
        t.test_flag,
        t.is_test,
        t.is_cancelled,
        t.is_countable,
        t.business_date,
        t.load_id,
        t.record_no
    from {{ this }} as t
    where
        t.order_id in (select r.order_id from renamed as r)
    {%- if loads.stale %}
        and t.load_id not in {{ load_list(loads.stale) }}
        {%- endif %}
    {%- endif %}
),

deduplicated as (
    -- rows with the same business key count once
    select distinct on (order_id) *
    from candidates
    order by order_id asc, {{ delivery_order() }}
),

final as (
    select
        *,
        now() as refreshed_at
    from deduplicated
)

select * from final
