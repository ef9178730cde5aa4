{#- BL_ERROR_RATE: BILLING_ERROR adjustment amounts (signed) / billed amounts, both over the
    period's bill months, city of each row; scale 100000. -#}
with

adjustments as (
    select * from {{ ref('fct_bill_adjustments') }}
),

bills as (
    select * from {{ ref('fct_bills') }}
),

items as (
    select
        city_code,
        coalesce(amount_fen, 0) as numerator,
        0 as denominator
    from adjustments
    where
        is_billing_error
        and bill_month in {{ period_months() }}
    union all
    select
        city_code,
        0 as numerator,
        coalesce(billed_amount_fen, 0) as denominator
    from bills
    where bill_month in {{ period_months() }}
)

{{ rollup_indicator('BL_ERROR_RATE', 'items') }}
