import type { Config } from '../config.js';

/** Every word a template prints around the content; the keys are the config's `labels:`. */
export type Labels = Record<keyof Config['labels'], string>;

/**
 * The template's fixed words by language. The footer's `receiving` and `requested` are followed
 * by a space, the newsletter's name and a full stop, so each is written to end where the name fits;
 * `tracked` is a sentence of its own, printed only where clicks are recorded per reader.
 */
export const catalogue: Readonly<Record<string, Labels>> = {
  en: {
    summary: 'In this issue',
    related: 'Related',
    by: 'By',
    subscribeTitle: 'Was this forwarded to you?',
    subscribeText: 'Get the next issue in your inbox, free, every week.',
    subscribeButton: 'Subscribe',
    viewInBrowser: 'View in browser',
    unsubscribe: 'Unsubscribe',
    receiving: 'You are receiving this email because you subscribed to',
    requested: 'You are receiving this one email because this address was entered in the sign-up form of',
    tracked: 'We record which links in this email you click.',
  },
  uk: {
    summary: 'У цьому випуску',
    related: 'Читайте також',
    by: 'Текст:',
    subscribeTitle: 'Вам переслали цей лист?',
    subscribeText: 'Отримуйте наступний випуск на пошту щотижня, безкоштовно.',
    subscribeButton: 'Підписатися',
    viewInBrowser: 'Відкрити в браузері',
    unsubscribe: 'Відписатися',
    receiving: 'Ви отримуєте цей лист, бо підписалися на розсилку',
    requested: 'Ви отримали лише цей лист, бо цю адресу ввели у форму підписки на розсилку',
    tracked: 'Ми записуємо, за якими посиланнями в цьому листі ви переходите.',
  },
  de: {
    summary: 'In dieser Ausgabe',
    related: 'Mehr zum Thema',
    by: 'Von',
    subscribeTitle: 'Wurde Ihnen diese E-Mail weitergeleitet?',
    subscribeText: 'Erhalten Sie jede Woche die nächste Ausgabe kostenlos per E-Mail.',
    subscribeButton: 'Abonnieren',
    viewInBrowser: 'Im Browser ansehen',
    unsubscribe: 'Abmelden',
    receiving: 'Sie erhalten diese E-Mail, weil Sie diesen Newsletter abonniert haben:',
    requested: 'Sie erhalten nur diese eine E-Mail, weil Ihre Adresse in das Anmeldeformular dieses Newsletters eingetragen wurde:',
    tracked: 'Wir speichern, welche Links in dieser E-Mail Sie anklicken.',
  },
  // French sets a narrow no-break space (U+202F) before a question mark, as its typography asks.
  fr: {
    summary: 'Dans ce numéro',
    related: 'À lire aussi',
    by: 'Par',
    subscribeTitle: 'On vous a transféré cet e-mail\u202f?',
    subscribeText: 'Recevez le prochain numéro dans votre boîte mail, gratuitement, chaque semaine.',
    subscribeButton: 'S’abonner',
    viewInBrowser: 'Afficher dans le navigateur',
    unsubscribe: 'Se désabonner',
    receiving: 'Vous recevez cet e-mail parce que vous êtes abonné à la newsletter',
    requested: 'Vous recevez cet unique e-mail parce que cette adresse a été saisie dans le formulaire d’inscription de la newsletter',
    tracked: 'Nous enregistrons les liens de cet e-mail sur lesquels vous cliquez.',
  },
  es: {
    summary: 'En este número',
    related: 'Relacionado',
    by: 'Por',
    subscribeTitle: '¿Te reenviaron este correo?',
    subscribeText: 'Recibe el próximo número en tu bandeja de entrada, gratis, cada semana.',
    subscribeButton: 'Suscribirme',
    viewInBrowser: 'Ver en el navegador',
    unsubscribe: 'Cancelar suscripción',
    receiving: 'Recibes este correo porque te suscribiste a',
    requested: 'Recibes este único correo porque esta dirección se introdujo en el formulario de suscripción de',
    tracked: 'Registramos en qué enlaces de este correo haces clic.',
  },
  ar: {
    summary: 'في هذا العدد',
    related: 'اقرأ أيضًا',
    by: 'بقلم',
    subscribeTitle: 'هل أُعيد توجيه هذه الرسالة إليك؟',
    subscribeText: 'احصل على العدد القادم في بريدك الإلكتروني مجانًا كل أسبوع.',
    subscribeButton: 'اشترك',
    viewInBrowser: 'عرض في المتصفح',
    unsubscribe: 'إلغاء الاشتراك',
    receiving: 'تصلك هذه الرسالة لاشتراكك في',
    requested: 'تصلك هذه الرسالة مرة واحدة فقط لأن هذا العنوان أُدخل في نموذج الاشتراك في',
    tracked: 'نسجّل الروابط التي تنقر عليها في هذه الرسالة.',
  },
  he: {
    summary: 'בגיליון הזה',
    related: 'עוד בנושא',
    by: 'מאת',
    subscribeTitle: 'המייל הזה הועבר אליך?',
    subscribeText: 'קבלו את הגיליון הבא לתיבת הדואר, בחינם, בכל שבוע.',
    subscribeButton: 'להרשמה',
    viewInBrowser: 'לצפייה בדפדפן',
    unsubscribe: 'להסרה מרשימת התפוצה',
    receiving: 'קיבלת את המייל הזה כי נרשמת לרשימת התפוצה של',
    requested: 'המייל הזה נשלח אליך פעם אחת בלבד, כי הכתובת הזו הוזנה בטופס ההרשמה של',
    tracked: 'אנחנו מתעדים על אילו קישורים במייל הזה לחצת.',
  },
};

/**
 * The catalogue entry for a language tag: the whole tag if the catalogue has it, else its language
 * (`de-AT` → `de`; Intl canonicalises `iw` to `he`), else English.
 */
export function catalogueFor(language: string): Labels {
  const tag = language.toLowerCase();
  if (catalogue[tag]) return catalogue[tag];
  let base = tag.split('-')[0]!;
  try {
    base = new Intl.Locale(language).language;
  } catch {
    // A tag Intl refuses keeps its first subtag.
  }
  return catalogue[base] ?? catalogue.en!;
}

/** The words for one issue: the config's own labels, each over the catalogue's for its language. */
export function labelsFor(language: string, overrides: Config['labels'] = {}): Labels {
  const words = { ...catalogueFor(language) };
  for (const [key, value] of Object.entries(overrides) as [keyof Labels, string | undefined][]) {
    if (value !== undefined) words[key] = value;
  }
  return words;
}
