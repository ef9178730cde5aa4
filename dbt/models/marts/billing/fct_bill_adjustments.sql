{#- One row per bill adjustment (BSS_BILL_ADJ); BILLING_ERROR adjustments are the numerator
    of BL_ERROR_RATE. -#}
with

adjustments as (
    select * from {{ ref('stg_bss__bill_adjustments') }}
),

final as (
    select
        adj_id,
        subscriber_no_key,
        city_code,
        bill_month,
        amount_fen,
        reason,
        coalesce(reason = 'BILLING_ERROR', false) as is_billing_error,
        confirmed_time
    from adjustments
)

select * from final
