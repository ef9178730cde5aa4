{#- One row per BSS order (业务工单) with the flags and limits the channel and order
    indicators use. Test and cancelled orders stay in the fact, flagged: they never count
    (is_countable).
    Incremental: a build reads the upstream rows written since its own latest build (and the
    keys of replaced loads); see macros/incremental.sql. -#}
{{ incremental_config('BSS_ORDER', 'order_id') }}
{%- set loads = incremental_loads('BSS_ORDER') %}

with

orders as (
    select * from {{ ref('stg_bss__orders') }}
    {{ refreshed_rows_filter('order_id', loads) }}
),

resume_limit as (
    select make_interval(secs => limit_seconds) as limit_interval
    from {{ ref('time_limits') }}
    where indicator_code = 'OR_RESUME_ONTIME' and condition_value = '*'
),

final as (
    select
        orders.order_id,
        orders.order_type,
        orders.product,
        orders.subscriber_no_key,
        orders.city_code,
        orders.county_code,
        orders.area_type,
        orders.channel_type,
        orders.outlet_id,
        orders.accept_time,
        {{ local_date('orders.accept_time') }} as accept_date,
        orders.promise_time,
        orders.complete_time,
        orders.queue_wait_sec,
        orders.handle_sec,
        orders.payment_time,
        orders.status,
        orders.test_flag,
        coalesce(orders.test_flag = 1, false) as is_test,
        coalesce(orders.status = 'CANCELLED', false) as is_cancelled,
        -- clean input: test records and cancelled orders never count (test_flag NULL is no test)
        (orders.test_flag is distinct from 1 and orders.status is distinct from 'CANCELLED') as is_countable,
        coalesce(orders.channel_type in ('WEB', 'APP', 'IVR_10001'), false) as is_electronic_channel,
        -- OR_INSTALL_ONTIME: the order's own promise (NULL without promise_time: not countable);
        -- in seconds, so adding it back to accept_time is independent of the session time zone
        case
            when orders.order_type = 'NEW_INSTALL' and orders.product in ('FIXED', 'BROADBAND')
                then make_interval(
                        secs => extract(epoch from orders.promise_time - orders.accept_time)::double precision
                    )
        end as install_limit,
        -- OR_RESUME_ONTIME: resumed within the time_limits seed's limit of payment_time
        case
            when orders.order_type = 'RESUME' and orders.payment_time is not null
                then resume_limit.limit_interval
        end as resume_limit,
        orders.load_id,
        now() as refreshed_at
    from orders
    left join resume_limit on true
)

select * from final
