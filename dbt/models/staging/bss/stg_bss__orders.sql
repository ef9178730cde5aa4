{#- BSS_ORDER, one row per order_id (the latest delivery wins; see macros/incremental.sql),
    subscriber pseudonymised; test and cancelled orders flagged, never dropped here.
    Incremental: a build reads the raw rows of new loads only. -#}
{#- BRIN on accept_time: source_day_coverage recounts a day's orders by a range on it -#}
{{ incremental_config('BSS_ORDER', 'order_id', extra_indexes=[{'columns': ['accept_time'], 'type': 'brin'}]) }}
{#- the columns of renamed, in order: the current rows of changed keys are selected by them -#}
{%- set columns = [
    'order_id', 'order_type', 'product', 'subscriber_no_key', 'city_code', 'county_code',
    'area_type', 'channel_type', 'outlet_id', 'accept_time', 'promise_time', 'complete_time',
    'queue_wait_sec', 'handle_sec', 'payment_time', 'status', 'test_flag', 'is_test',
    'is_cancelled', 'is_countable', 'business_date', 'load_id', 'record_no'
] %}
{%- set loads = incremental_loads('BSS_ORDER') %}

with

source as (
    select * from {{ source('raw', 'bss_order') }}
    {{ new_loads_filter('order_id', loads) }}
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
    -- the current winner of a changed key competes with the new deliveries
    {{ current_winners('order_id', columns, loads) }}
),

final as (
    -- rows with the same business key count once
    {{ latest_delivery('order_id') }}
)

select * from final
