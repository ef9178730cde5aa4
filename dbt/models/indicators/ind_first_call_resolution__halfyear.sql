{#- CC_FCR: answered calls (by queue_start) with no other call from the same caller for the
    same skill group queued within 48 h after call_end (fct_calls). -#}
with

calls as (
    select * from {{ ref('fct_calls') }}
),

items as (
    select
        city_code,
        case when is_first_call_resolved then 1 else 0 end as numerator,
        1 as denominator
    from calls
    where
        answer_time is not null
        and {{ in_period('queue_start') }}
)

{{ rollup_indicator('CC_FCR', 'items') }}
