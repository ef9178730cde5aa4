with

source as (
    select * from {{ source('raw', 'bss_order') }}
),

deduplicated as (
    -- rows with the same business key count once; a later delivery wins
    select distinct on (order_id) *
    from source
    order by order_id, _load_id desc, _record_no desc
),

final as (
    select
        d.order_id,
        d.order_type,
        d.product,
        {{ pseudonymise('d.subscriber_no') }} as subscriber_no_key,
        d.city_code,
        d.county_code,
        d.area_type,
        d.channel_type,
        d.outlet_id,
        d.accept_time,
        d.promise_time,
        d.complete_time,
        d.queue_wait_sec,
        d.handle_sec,
        d.payment_time,
        d.status,
        d.test_flag,
        d.test_flag = 1 as is_test,
        d.status = 'CANCELLED' as is_cancelled,
        (d.test_flag = 0 and d.status <> 'CANCELLED') as is_countable,
        d._load_id as load_id
    from deduplicated as d
    cross join {{ pseudonym_key_relation() }} as k
)

select * from final
