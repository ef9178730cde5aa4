{#- CC_SAT: post-call surveys scoring 4 or 5 / all surveys of calls started in the period
    (period and city of the call; a survey without score stays in the denominator). -#}
with

surveys as (
    select * from {{ ref('fct_call_surveys') }}
),

items as (
    select
        city_code,
        case when is_satisfied then 1 else 0 end as numerator,
        1 as denominator
    from surveys
    where {{ in_period('call_start') }}
)

{{ rollup_indicator('CC_SAT', 'items') }}
