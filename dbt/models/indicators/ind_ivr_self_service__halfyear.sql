{#- CC_IVR_SELF: calls (by call_start) that ended in the IVR (IVR_DONE) without queueing for an
    agent / all calls. -#}
with

calls as (
    select * from {{ ref('fct_calls') }}
),

items as (
    select
        city_code,
        case when queue_start is null and end_reason = 'IVR_DONE' then 1 else 0 end as numerator,
        1 as denominator
    from calls
    where {{ in_period('call_start') }}
)

{{ rollup_indicator('CC_IVR_SELF', 'items') }}
